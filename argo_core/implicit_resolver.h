// The implicit-destination step of sendv and notify (DESIGN §4), as an
// injected interface: the table itself belongs to implicit_dest/.
#ifndef ARGO_CORE_IMPLICIT_RESOLVER_H_
#define ARGO_CORE_IMPLICIT_RESOLVER_H_

#include <cstdint>

#include "argo_core/public/argo.h"

namespace argo {

// Returned by value (16 bytes: two registers), not through memory: field
// stores read back as one wider load stall store forwarding on the send
// path.
struct ImplicitDestination {
  int32_t rc;     // 0, kImplicitParent or -ECONNREFUSED
  domid_t domid;  // when rc == 0: a local domain; ARGO_DOMID_PARENT
  xen_argo_port_t port;
  uint32_t domain_generation;  // the destination's generation when cabled
};
static_assert(sizeof(ImplicitDestination) == 16, "fits two registers");

// ImplicitDestination.rc of a cable to parent:port ("up to the next
// hypervisor", DESIGN §7).
inline constexpr int32_t kImplicitParent = 1;

class ImplicitResolver {
 public:
  virtual ~ImplicitResolver() = default;

  // Where a send from (src, src_port) goes. `src_generation` is the
  // sender's current generation (entries of an earlier domain with the same
  // domid never match). rc is 0, -ECONNREFUSED if there is no entry, or
  // kImplicitParent for a PARENT destination (port set). Called on
  // every implicit send under L1: must not block or allocate.
  virtual ImplicitDestination Resolve(domid_t src, uint32_t src_generation,
                                      xen_argo_port_t src_port) = 0;

  // Domain `domid` of `generation` is gone; drop its entries (from it and
  // to it). Called with no hypervisor lock held, after every hypercall that
  // could still see the domain finished. The domid may already belong to a
  // new domain (another generation) by then.
  virtual void OnDomainDestroyed(domid_t domid, uint32_t generation) = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_IMPLICIT_RESOLVER_H_
