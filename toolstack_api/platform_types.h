// The toolstack's vocabulary for domains: how they are named, asked for
// and reported.
#ifndef TOOLSTACK_API_PLATFORM_TYPES_H_
#define TOOLSTACK_API_PLATFORM_TYPES_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/variant.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/argo.h"
#include "nesting/parent_link.h"

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
  // policy::Capability bits, given at creation only (never changed).
  uint8_t capabilities = 0;
};

struct DomainRecord {
  domid_t id;
  std::string name;
  std::string label;
  DomainInfo info;
  uint64_t denials = 0;  // operations of this domain the policy refused
  // The guest process attached to it (DESIGN §8), 0 for none.
  pid_t attached_pid = 0;
  uint8_t capabilities = 0;  // policy::Capability bits
};

// How this level reaches its parent (argo-hv --parent, DESIGN §7).
struct ParentSpec {
  std::string socket;  // the parent's attach socket
  std::string domain;  // this level's domain there, by name or id
  std::string token;   // that domain's attach token
  uint32_t cpus = 2;   // receive buffers, 1..ARGO_LEVEL_MAX_CPUS
  uint32_t buffer_bytes = 256 * 1024;  // each receive buffer's length
};

// This level's link to its parent, as the toolstack reports it.
struct ParentLinkRecord {
  std::string socket;
  std::string domain;       // as given in ParentSpec
  domid_t domid_in_parent;  // the domain's id there
  uint32_t cpus;
  bool lost;  // the parent went away (ECONNREFUSED upward)
  nesting::ParentLink::Stats stats;
};

// A domain of this level whose process attached as a child level.
// A policy module this level can assemble (Platform::ListModules).
struct ModuleRecord {
  std::string name;
  std::string file;
  bool shipped;  // embedded in the binary, else added at run time
  bool enabled;
  std::vector<std::string> types;  // the types it declares
};

struct ChildLevelRecord {
  domid_t id;
  std::string name;
  uint32_t cpus;  // the receive buffers it declared when it last attached
  bool running;   // its process is attached now
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_PLATFORM_TYPES_H_
