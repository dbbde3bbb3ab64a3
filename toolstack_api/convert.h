// Conversions between the level's C++ state and the toolstack API's
// messages (argo.toolstack.v1). Pure functions: names are passed in, so
// these never take a lock.
#ifndef TOOLSTACK_API_CONVERT_H_
#define TOOLSTACK_API_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "argo_core/ring_info.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/audit_log.h"
#include "toolstack_api/platform_types.h"
#include "toolstack_api/toolstack.pb.h"

namespace argo::toolstack {

v1::Domain DomainToProto(const DomainRecord& record);
v1::Ring RingToProto(const RingSnapshot& ring, absl::string_view owner_name);
// `name`: the domain's name ("" for none, or for the parent).
v1::Endpoint EndpointToProto(const implicit_dest::Endpoint& e,
                             absl::string_view name);
v1::Denial DenialToProto(const policy::Denial& denial);

// A DomainRef message as the registry's key. InvalidArgument, naming
// `role` ("domain", "from"...), when unset or out of range.
absl::StatusOr<DomainRef> RefFromProto(const v1::DomainRef& ref,
                                       absl::string_view role);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_CONVERT_H_
