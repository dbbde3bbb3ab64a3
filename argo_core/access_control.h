// The XSM hooks Argo calls (xsm_argo_*), as an injected interface: the
// policy engine lives above the core (implicit_dest/). Each hook returns 0
// to permit or a negative Xen errno (-EACCES for a denial). A hypervisor
// without one permits everything (Xen without XSM) at no call's cost.
#ifndef ARGO_CORE_ACCESS_CONTROL_H_
#define ARGO_CORE_ACCESS_CONTROL_H_

#include <atomic>
#include <cstdint>

#include "argo_core/public/argo.h"

namespace argo {

class AccessControl {
 public:
  virtual ~AccessControl() = default;
  // xsm_argo_enable: may `d` use Argo at all (checked on every op).
  virtual int Enable(domid_t d) = 0;
  // xsm_argo_register_single_source: may `d` register a ring for `partner`.
  virtual int RegisterSingleSource(domid_t d, domid_t partner) = 0;
  // xsm_argo_register_any_source: may `d` register a wildcard ring.
  virtual int RegisterAnySource(domid_t d) = 0;
  // xsm_argo_send: may `src` send to (or query rings of) `dst`. `implicit`
  // is false when the guest named the destination itself, which also needs
  // the send_explicit permission (DESIGN §5).
  virtual int Send(domid_t src, domid_t dst, bool implicit) = 0;

  // The same decisions, not audited: for questions ("would this send be
  // allowed?", the toolstack's explain) rather than attempts. A hook that
  // audits overrides them; the defaults ask the hooks above.
  virtual int QueryEnable(domid_t d) { return Enable(d); }
  virtual int QuerySend(domid_t src, domid_t dst, bool implicit) {
    return Send(src, dst, implicit);
  }

  // The domain is gone (its label must not pass to a later domain with the
  // same domid). Called with no hypervisor lock held.
  virtual void OnDomainDestroyed(domid_t) {}

  // Moves whenever any decision may have changed (a policy load, a
  // relabel). A caller may cache a *permit* until it moves (the hypervisor
  // caches each domain's ENABLE this way); never a denial, which is
  // audited every time. Acquire: pairs with DecisionsChanged's release.
  uint64_t decision_epoch() const {
    return epoch_.load(std::memory_order_acquire);
  }

 protected:
  // Call after the change is visible to the hooks.
  void DecisionsChanged() { epoch_.fetch_add(1, std::memory_order_acq_rel); }

 private:
  std::atomic<uint64_t> epoch_{1};
};

}  // namespace argo

#endif  // ARGO_CORE_ACCESS_CONTROL_H_
