// The written form of cable ends, shared by argoctl and the boot
// configuration: "NAME:PORT", "ID:PORT" and "parent:PORT" (up to the next
// hypervisor, §4). A name made only of digits would read as an id, so
// domain names may not be all digits (Platform::kNameRules).
#ifndef TOOLSTACK_API_ENDPOINT_TEXT_H_
#define TOOLSTACK_API_ENDPOINT_TEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "toolstack_api/toolstack.pb.h"

namespace argo::toolstack {

// "storage" -> name, "7" -> id 7. InvalidArgument for "" or an id > 65535.
absl::StatusOr<v1::DomainRef> ParseDomainRef(absl::string_view text);

// InvalidArgument naming what is wrong with `text`.
absl::StatusOr<v1::Endpoint> ParseEndpoint(absl::string_view text);

// "storage:7", "parent:9"; a resolved name is preferred to an id.
std::string FormatEndpoint(const v1::Endpoint& e);
std::string FormatDomainRef(const v1::DomainRef& ref);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_ENDPOINT_TEXT_H_
