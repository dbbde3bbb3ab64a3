#include "implicit_dest/route_explainer.h"

#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"

namespace argo::implicit_dest {
namespace {

std::string RingName(const RingSnapshot& r) {
  return absl::StrCat("dom", r.owner, ":", r.id.aport, " (",
                      r.id.partner_id == XEN_ARGO_DOMID_ANY
                          ? std::string("wildcard")
                          : absl::StrCat("unicast for dom", r.id.partner_id),
                      ", len ", r.len, ", ", r.len - r.bytes_used,
                      " bytes free, ", r.pending.size(), " waiting)");
}

}  // namespace

std::string RouteExplanation::Describe() const {
  std::string out =
      absl::StrCat(EndpointName(from), " -> ",
                   to.has_value() ? EndpointName(*to) : "(not cabled)");
  if (ring.has_value()) absl::StrAppend(&out, "\n  ring: ", RingName(*ring));
  absl::StrAppend(
      &out, "\n  verdict: ",
      xen_errno == 0 ? "delivered" : std::string(XenErrnoName(xen_errno)),
      " - ", reason);
  return out;
}

RouteExplanation ExplainRoute(Hypervisor& hv, ImplicitTable& table,
                              const policy::PolicyEngine* policy,
                              Endpoint from, uint32_t payload,
                              const DomainNamer& namer) {
  auto dom = [&namer](domid_t d) {
    std::string name = namer ? namer(d) : std::string();
    return name.empty() ? absl::StrCat("dom", d) : name;
  };
  auto labelled = [&](domid_t d) {
    return policy == nullptr
               ? dom(d)
               : absl::StrCat(dom(d), " (", policy->Label(d), ")");
  };
  RouteExplanation e;
  e.from = from;
  e.to = table.Lookup(from);
  const xen_argo_send_addr_t send_addr{
      .src = {from.port, from.domid, 0},
      .dst = {0, ARGO_DOMID_IMPLICIT, 0}};
  const SendProbe probe = hv.ProbeSend(from.domid, send_addr, payload);
  e.xen_errno = probe.xen_errno;
  e.decided_by = probe.decided_by;
  e.ring = probe.ring;
  const domid_t to = probe.destination.domain_id;
  switch (probe.decided_by) {
    case SendCheck::kCaller:
      e.reason = absl::StrCat("domain ", from.domid, " does not exist");
      break;
    case SendCheck::kEnable:
      e.reason = absl::StrCat("policy: ", labelled(from.domid),
                              " lacks ENABLE: it may not use Argo at all");
      break;
    case SendCheck::kSource:
      e.reason = "the source address is malformed";
      break;
    case SendCheck::kImplicit:
      if (probe.xen_errno == XEN_ENOSYS) {
        e.reason =
            "the destination is the parent hypervisor; this level has no "
            "uplink";
      } else if (e.to.has_value()) {
        e.reason = absl::StrCat("the cable leads to ", EndpointName(*e.to),
                                ", which is gone (destroyed, or re-created "
                                "since it was cabled)");
      } else {
        e.reason = absl::StrCat(dom(from.domid), ":", from.port,
                                " is not cabled: connect it to a destination");
      }
      break;
    case SendCheck::kDestination:
      e.reason = absl::StrCat("domain ", to, " does not exist");
      break;
    case SendCheck::kPolicy:
      e.reason = absl::StrCat("policy: ", labelled(from.domid),
                              " lacks SEND to ", labelled(to));
      break;
    case SendCheck::kSenderArgo:
      e.reason = absl::StrCat(dom(from.domid),
                              " has no Argo: it cannot send at all");
      break;
    case SendCheck::kDestinationArgo:
      e.reason = absl::StrCat(dom(to), " has no Argo");
      break;
    case SendCheck::kUplink:
      e.reason = absl::StrCat(
          "the cable leads up to the parent level (parent:",
          probe.destination.aport,
          "): the send is forwarded there and the parent's table, policy "
          "and ring decide it; its errno becomes this send's");
      break;
    case SendCheck::kChildLevel:
      e.reason = absl::StrCat(
          dom(to), " is a child level: the message goes into one of its "
          "receive buffers, and its own table delivers it (port ",
          probe.destination.aport, " there)");
      break;
    case SendCheck::kRing:
      e.reason = absl::StrCat(dom(to), " has no ring on port ",
                              probe.destination.aport, " for ",
                              dom(from.domid), " (unicast) or for any sender");
      break;
    case SendCheck::kFits:
      e.reason = absl::StrCat("a ", payload, "-byte message never fits: ",
                              "this ring takes up to ",
                              MaxPayloadForRing(e.ring->len), " bytes");
      break;
    case SendCheck::kSpace:
      e.reason = absl::StrCat("the ring is too full for ", payload,
                              " bytes now: the send gets EAGAIN and a "
                              "wake-up when the receiver makes room");
      break;
    case SendCheck::kDelivered:
      e.reason = absl::StrCat("up to ", MaxPayloadForRing(e.ring->len),
                              "-byte messages; sends that do not fit now get "
                              "EAGAIN and a wake-up");
      break;
  }
  return e;
}

}  // namespace argo::implicit_dest
