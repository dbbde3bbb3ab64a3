// "Where would a send from D:p go, through which ring, and would it be
// allowed?" — the toolstack's explain, answered from live state in the
// order sendv itself decides (DESIGN §4, §5), without sending anything and
// without auditing.
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
  // 0 if a send would be delivered (space permitting), else the Xen errno
  // the send would return.
  int xen_errno = 0;
  std::string reason;  // one line a person can act on

  // A few lines: the route, the ring, the verdict.
  std::string Describe() const;
};

// A domain's name for reasons ("" or no namer: "dom<id>").
using DomainNamer = std::function<std::string(domid_t)>;

// `policy` may be null (no access control).
RouteExplanation ExplainRoute(Hypervisor& hv, ImplicitTable& table,
                              const policy::PolicyEngine* policy,
                              Endpoint from,
                              const DomainNamer& namer = nullptr);

}  // namespace argo::implicit_dest

#endif  // IMPLICIT_DEST_ROUTE_EXPLAINER_H_
