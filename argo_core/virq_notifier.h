// How the hypervisor raises VIRQ_ARGO on a domain. Injected so the core does
// no I/O: tests record, the daemon writes an eventfd.
#ifndef ARGO_CORE_VIRQ_NOTIFIER_H_
#define ARGO_CORE_VIRQ_NOTIFIER_H_

#include "argo_core/public/argo.h"

namespace argo {

class VirqNotifier {
 public:
  virtual ~VirqNotifier() = default;
  // Called with no hypervisor lock held. The domain may have been destroyed
  // since the event; implementations ignore unknown domains. Must not block
  // and must not call back into the hypervisor.
  virtual void RaiseVirq(domid_t domid) = 0;
};

// Drops every VIRQ (for callers that poll).
class NullVirqNotifier final : public VirqNotifier {
 public:
  void RaiseVirq(domid_t) override {}
};

}  // namespace argo

#endif  // ARGO_CORE_VIRQ_NOTIFIER_H_
