// Conversions between the level's C++ state and the toolstack API's
// messages (argo.toolstack.v1). Pure functions: names are passed in, so
// these never take a lock.
#ifndef TOOLSTACK_API_CONVERT_H_
#define TOOLSTACK_API_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "argo_core/ring_info.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/audit_log.h"
#include "implicit_dest/policy/capabilities.h"
#include "toolstack_api/platform_types.h"
#include "toolstack_api/toolstack.pb.h"

namespace argo::toolstack {

v1::Domain DomainToProto(const DomainRecord& record);
v1::Ring RingToProto(const RingSnapshot& ring, absl::string_view owner_name);
// `name`: the domain's name ("" for none, or for the parent).
v1::Endpoint EndpointToProto(const implicit_dest::Endpoint& e,
                             absl::string_view name);
v1::Denial DenialToProto(const policy::Denial& denial);
// Nesting (§7): the link to the parent, its counters, the hypervisor's
// counters, a child level.
v1::ParentLink ParentLinkToProto(const ParentLinkRecord& link);
v1::ParentLinkCounters ParentLinkCountersToProto(
    const nesting::ParentLink::Stats& stats);
v1::NestingCounters NestingCountersToProto(
    const Hypervisor::NestingStats& stats);
v1::ChildLevel ChildLevelToProto(const ChildLevelRecord& child);

// The DomainSpec a CreateDomainRequest or a configuration's domain entry
// asks for (both carry name, id, memory_frames, label, argo_disabled;
// memory 0 means the default, and capabilities). InvalidArgument for an id
// beyond a domid, or a capability that is unknown or given twice (naming
// it).
template <typename DomainMessage>
absl::StatusOr<DomainSpec> DomainSpecFromProto(const DomainMessage& m) {
  if (m.id() > 0xFFFF) {
    return absl::InvalidArgumentError(
        absl::StrCat("id ", m.id(), " is not a domid"));
  }
  DomainSpec spec;
  spec.name = m.name();
  spec.id = static_cast<domid_t>(m.id());
  if (m.memory_frames() != 0) spec.memory_frames = m.memory_frames();
  spec.label = m.label();
  spec.argo_enabled = !m.argo_disabled();
  for (const std::string& name : m.capabilities()) {
    absl::StatusOr<policy::Capability> cap = policy::ParseCapability(name);
    if (!cap.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "capabilities: \"", absl::CHexEscape(name.substr(0, 64)),
          "\" is not a capability (control, hardware, xenstore)"));
    }
    if ((spec.capabilities & *cap) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("capabilities: \"", name, "\" is given twice"));
    }
    spec.capabilities |= *cap;
  }
  return spec;
}

// A DomainRef message as the registry's key. InvalidArgument, naming
// `role` ("domain", "from"...), when unset or out of range.
absl::StatusOr<DomainRef> RefFromProto(const v1::DomainRef& ref,
                                       absl::string_view role);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_CONVERT_H_
