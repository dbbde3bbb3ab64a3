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

RouteExplanation Refuse(RouteExplanation e, int xen_errno, std::string why) {
  e.xen_errno = xen_errno;
  e.reason = std::move(why);
  return e;
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
                              Endpoint from, const DomainNamer& namer) {
  auto dom = [&namer](domid_t d) {
    std::string name = namer ? namer(d) : std::string();
    return name.empty() ? absl::StrCat("dom", d) : name;
  };
  RouteExplanation e;
  e.from = from;
  if (!hv.DomainExists(from.domid)) {
    return Refuse(e, XEN_ESRCH,
                  absl::StrCat("domain ", from.domid, " does not exist"));
  }
  e.to = table.Lookup(from);
  if (!e.to.has_value()) {
    return Refuse(e, XEN_ECONNREFUSED,
                  absl::StrCat(dom(from.domid), ":", from.port,
                               " is not cabled: connect it to a destination"));
  }
  if (e.to->domid == ARGO_DOMID_PARENT) {
    return Refuse(e, XEN_ENOSYS,
                  "the destination is the parent hypervisor; this level has "
                  "no uplink");
  }
  if (policy != nullptr) {
    if (!policy->Permits(from.domid, DOMID_XEN, policy::v1::ENABLE)) {
      return Refuse(e, XEN_EACCES,
                    absl::StrCat("policy: ", dom(from.domid), " (",
                                 policy->Label(from.domid), ") lacks ENABLE"));
    }
    if (!policy->Permits(from.domid, e.to->domid, policy::v1::SEND)) {
      return Refuse(
          e, XEN_EACCES,
          absl::StrCat("policy: ", dom(from.domid), " (",
                       policy->Label(from.domid), ") lacks SEND to ",
                       dom(e.to->domid), " (", policy->Label(e.to->domid),
                       ")"));
    }
  }
  absl::StatusOr<DomainInfo> dst = hv.GetDomainInfo(e.to->domid);
  if (!dst.ok() || !dst->argo_enabled) {
    return Refuse(e, XEN_ECONNREFUSED,
                  absl::StrCat(dom(e.to->domid), " has no Argo"));
  }
  e.ring = hv.LookupRing(e.to->domid, e.to->port, from.domid);
  if (!e.ring.has_value()) {
    return Refuse(
        e, XEN_ECONNREFUSED,
        absl::StrCat(dom(e.to->domid), " has no ring on port ", e.to->port,
                     " for ", dom(from.domid),
                     " (unicast) or for any sender"));
  }
  e.reason = absl::StrCat("up to ", MaxPayloadForRing(e.ring->len),
                          "-byte messages; sends that do not fit now get "
                          "EAGAIN and a wake-up");
  return e;
}

}  // namespace argo::implicit_dest
