#include "toolstack_api/convert.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "argo_core/argo_limits.h"

namespace argo::toolstack {

v1::Domain DomainToProto(const DomainRecord& record) {
  v1::Domain d;
  d.set_id(record.id);
  d.set_name(record.name);
  d.set_label(record.label);
  d.set_memory_frames(record.info.memory_frames);
  d.set_argo_enabled(record.info.argo_enabled);
  d.set_state(record.attached_pid != 0 ? v1::Domain::RUNNING
                                       : v1::Domain::CREATED);
  d.set_attached_pid(static_cast<uint32_t>(record.attached_pid));
  for (policy::Capability cap :
       {policy::kCapControl, policy::kCapHardware, policy::kCapXenstore}) {
    if ((record.capabilities & cap) != 0) {
      d.add_capabilities(policy::CapabilitiesText(cap));
    }
  }
  d.set_ring_count(record.info.ring_count);
  v1::DomainCounters* c = d.mutable_counters();
  c->set_messages_sent(record.info.messages_sent);
  c->set_bytes_sent(record.info.bytes_sent);
  c->set_messages_received(record.info.messages_received);
  c->set_bytes_received(record.info.bytes_received);
  c->set_eagain(record.info.eagain);
  c->set_denials(record.denials);
  return d;
}

v1::Ring RingToProto(const RingSnapshot& ring, absl::string_view owner_name) {
  v1::Ring r;
  r.set_owner(ring.owner);
  r.set_owner_name(std::string(owner_name));
  r.set_port(ring.id.aport);
  r.set_partner(ring.id.partner_id);
  r.set_wildcard(ring.id.partner_id == XEN_ARGO_DOMID_ANY);
  r.set_len(ring.len);
  r.set_bytes_used(ring.bytes_used);
  r.set_waiters(static_cast<uint32_t>(ring.pending.size()));
  r.set_messages_in(ring.counters.messages_in);
  r.set_bytes_in(ring.counters.bytes_in);
  r.set_eagain(ring.counters.eagain);
  return r;
}

v1::Endpoint EndpointToProto(const implicit_dest::Endpoint& e,
                             absl::string_view name) {
  v1::Endpoint out;
  out.set_port(e.port);
  if (e.domid == ARGO_DOMID_PARENT) {
    out.set_parent(true);
    return out;
  }
  if (name.empty()) {
    out.mutable_domain()->set_id(e.domid);
  } else {
    out.mutable_domain()->set_name(std::string(name));
  }
  out.set_resolved_id(e.domid);
  out.set_resolved_name(std::string(name));
  return out;
}

v1::Denial DenialToProto(const policy::Denial& denial) {
  v1::Denial d;
  d.set_sequence(denial.sequence);
  d.set_unix_nanos(absl::ToUnixNanos(denial.when));
  d.set_hook(denial.hook);
  d.set_source(denial.source);
  d.set_source_type(denial.source_type);
  d.set_target(denial.target);
  d.set_target_type(denial.target_type);
  d.set_permission(denial.permission);
  d.set_silo(denial.silo);
  d.set_also_needed(denial.also_needed);
  return d;
}

v1::ParentLink ParentLinkToProto(const ParentLinkRecord& link) {
  v1::ParentLink m;
  m.set_socket(link.socket);
  m.set_domain(link.domain);
  m.set_domid(link.domid_in_parent);
  m.set_cpus(link.cpus);
  m.set_state(link.lost ? v1::ParentLink::LOST : v1::ParentLink::CONNECTED);
  return m;
}

v1::ParentLinkCounters ParentLinkCountersToProto(
    const nesting::ParentLink::Stats& stats) {
  v1::ParentLinkCounters m;
  m.set_up_sent(stats.up_sent);
  m.set_up_refused(stats.up_refused);
  m.set_down_delivered(stats.down_delivered);
  m.set_down_blocked(stats.down_blocked);
  m.set_dropped_no_cable(stats.dropped_no_cable);
  m.set_dropped_refused(stats.dropped_refused);
  m.set_dropped_malformed(stats.dropped_malformed);
  m.set_dropped_loop(stats.dropped_loop);
  return m;
}

v1::NestingCounters NestingCountersToProto(
    const Hypervisor::NestingStats& stats) {
  v1::NestingCounters m;
  m.set_up_forwarded(stats.up_forwarded);
  m.set_up_refused(stats.up_refused);
  m.set_down_wrapped(stats.down_wrapped);
  m.set_loops(stats.loops);
  return m;
}

v1::ChildLevel ChildLevelToProto(const ChildLevelRecord& child) {
  v1::ChildLevel m;
  m.set_id(child.id);
  m.set_name(child.name);
  m.set_cpus(child.cpus);
  m.set_state(child.running ? v1::Domain::RUNNING : v1::Domain::CREATED);
  return m;
}

absl::StatusOr<DomainRef> RefFromProto(const v1::DomainRef& ref,
                                       absl::string_view role) {
  switch (ref.ref_case()) {
    case v1::DomainRef::kName:
      if (ref.name().empty()) break;
      return DomainRef(ref.name());
    case v1::DomainRef::kId:
      if (ref.id() >= DOMID_FIRST_RESERVED) {
        return absl::InvalidArgumentError(
            absl::StrCat(role, ": domain id ", ref.id(),
                         " is not a domain (ids are 0..",
                         DOMID_FIRST_RESERVED - 1, ")"));
      }
      return DomainRef(static_cast<domid_t>(ref.id()));
    case v1::DomainRef::REF_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(role, ": name a domain, by name or by id"));
}

}  // namespace argo::toolstack
