// "Where would a send from D:p go, through which ring, and would it be
// allowed?" — the toolstack's explain. The verdict is sendv's own decision
// (Hypervisor::ProbeSend runs the code sendv runs, without auditing or
// side effects); this file only puts it into words a person can act on.
#ifndef IMPLICIT_DEST_ROUTE_EXPLAINER_H_
#define IMPLICIT_DEST_ROUTE_EXPLAINER_H_

#include <functional>
#include <string>

#include "absl/types/optional.h"
#include "argo_core/hypervisor.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/policy_engine.h"

namespace argo::implicit_dest {

struct RouteExplanation {
  Endpoint from;
  absl::optional<Endpoint> to;        // the table entry, if cabled
  absl::optional<RingSnapshot> ring;  // the ring a send would land in
  // 0 if a send of the asked size would be delivered now, else the Xen
  // errno the send would return, and the check that decided it.
  int xen_errno = 0;
  SendCheck decided_by = SendCheck::kDelivered;
  std::string reason;  // one line a person can act on

  // A few lines: the route, the ring, the verdict.
  std::string Describe() const;
};

// A domain's name for reasons ("" or no namer: "dom<id>").
using DomainNamer = std::function<std::string(domid_t)>;

// An implicit send of `payload` bytes from `from`. `policy` may be null (no
// access control); it is read only to name labels in the reason.
RouteExplanation ExplainRoute(Hypervisor& hv, ImplicitTable& table,
                              const policy::PolicyEngine* policy,
                              Endpoint from, uint32_t payload = 0,
                              const DomainNamer& namer = nullptr);

}  // namespace argo::implicit_dest

#endif  // IMPLICIT_DEST_ROUTE_EXPLAINER_H_
