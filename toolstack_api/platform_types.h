// The toolstack's vocabulary for domains: how they are named, asked for
// and reported.
#ifndef TOOLSTACK_API_PLATFORM_TYPES_H_
#define TOOLSTACK_API_PLATFORM_TYPES_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/types/variant.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/argo.h"

namespace argo::toolstack {

// A domain named by the toolstack's name for it or by its domid.
using DomainRef = absl::variant<std::string, domid_t>;

struct DomainSpec {
  std::string name;          // required; see Platform::kNameRules
  domid_t id = 0;            // 0: the lowest free id (dom0 is never chosen)
  bool explicit_id = false;  // true: use `id` as given, 0 included
  uint64_t memory_frames = 256;
  std::string label;  // "": the policy's default type
  bool argo_enabled = true;
};

struct DomainRecord {
  domid_t id;
  std::string name;
  std::string label;
  DomainInfo info;
  uint64_t denials = 0;  // operations of this domain the policy refused
  // The guest process attached to it (DESIGN §8), 0 for none.
  pid_t attached_pid = 0;
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_PLATFORM_TYPES_H_
