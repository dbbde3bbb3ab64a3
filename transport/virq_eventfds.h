// VIRQ_ARGO delivered to attached guest processes: one eventfd per
// attached domain, written (counter += 1) when the hypervisor raises the
// VIRQ. Domains with no process attached drop their VIRQs, as a Xen
// domain with no handler bound would.
//
// A fresh eventfd per attachment: a process that detached keeps no way to
// see (or steal) the VIRQs of the next one.
//
// Thread safety: RaiseVirq runs on hypercall paths concurrently with
// Install/Remove on the server's loop; a per-domain spin lock keeps a
// write from racing the close of the same descriptor.
#ifndef TRANSPORT_VIRQ_EVENTFDS_H_
#define TRANSPORT_VIRQ_EVENTFDS_H_

#include <array>
#include <memory>

#include "argo_core/public/argo.h"
#include "argo_core/spin_lock.h"
#include "argo_core/virq_notifier.h"

namespace argo::transport {

class VirqEventfds final : public VirqNotifier {
 public:
  VirqEventfds();
  ~VirqEventfds() override;  // closes what is still installed

  // RaiseVirq writes `eventfd` for `domid` from now on; takes ownership
  // (a previous one is closed). REQUIRES: domid < DOMID_FIRST_RESERVED.
  void Install(domid_t domid, int eventfd);
  // Stops and closes; a no-op if none.
  void Remove(domid_t domid);

  void RaiseVirq(domid_t domid) override;

 private:
  struct Slot {
    SpinLock lock;
    int fd = -1;
  };
  // Indexed by domid: no allocation or map lookup on the send path.
  std::unique_ptr<std::array<Slot, DOMID_FIRST_RESERVED>> slots_;
};

}  // namespace argo::transport

#endif  // TRANSPORT_VIRQ_EVENTFDS_H_
