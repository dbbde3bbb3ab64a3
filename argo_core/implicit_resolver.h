// The implicit-destination step of sendv and notify (DESIGN §4), as an
// injected interface: the table itself belongs to implicit_dest/.
#ifndef ARGO_CORE_IMPLICIT_RESOLVER_H_
#define ARGO_CORE_IMPLICIT_RESOLVER_H_

#include <cstdint>

#include "argo_core/public/argo.h"

namespace argo {

struct ImplicitDestination {
  xen_argo_addr_t addr;         // a local (domid, port)
  uint32_t domain_generation;   // the destination's generation when cabled
};

class ImplicitResolver {
 public:
  virtual ~ImplicitResolver() = default;

  // Where a send from (src, src_port) goes. `src_generation` is the
  // sender's current generation (entries of an earlier domain with the same
  // domid never match). Returns 0 and *out, -ECONNREFUSED if there is no
  // entry, or -ENOSYS for a PARENT destination (no uplink at this level).
  // Called on every implicit send under L1: must not block or allocate.
  virtual int Resolve(domid_t src, uint32_t src_generation,
                      xen_argo_port_t src_port, ImplicitDestination* out) = 0;

  // Domain `domid` of `generation` is gone; drop its entries (from it and
  // to it). Called with no hypervisor lock held, after every hypercall that
  // could still see the domain finished. The domid may already belong to a
  // new domain (another generation) by then.
  virtual void OnDomainDestroyed(domid_t domid, uint32_t generation) = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_IMPLICIT_RESOLVER_H_
