// VIRQ_ARGO delivered to attached guest processes: the daemon's end of one
// wake socket (wire.h) per attached domain, sent one byte when the hypervisor raises the
// VIRQ. Domains with no process attached drop their VIRQs, as a Xen
// domain with no handler bound would.
//
// A fresh wake socket per attachment: a process that detached keeps no way to
// see (or steal) the VIRQs of the next one.
//
// Thread safety: RaiseVirq runs on hypercall paths concurrently with
// Install/Remove on the server's loop; a per-domain spin lock keeps a
// write from racing the close of the same descriptor.
#ifndef TRANSPORT_VIRQ_SOCKETS_H_
#define TRANSPORT_VIRQ_SOCKETS_H_

#include <array>
#include <cstdint>
#include <memory>

#include "argo_core/public/argo.h"
#include "argo_core/spin_lock.h"
#include "argo_core/virq_notifier.h"

namespace argo::transport {

class VirqSockets final : public VirqNotifier {
 public:
  VirqSockets();
  ~VirqSockets() override;  // closes what is still installed

  // RaiseVirq sets `*pending` (the guest's shared flag, wire.h
  // DoorbellVirq) for `domid` from now on and, when it was clear, sends on
  // `wake_socket`; takes ownership of the socket (a previous one is
  // closed). `pending` stays mapped until Remove returns.
  // REQUIRES: domid < DOMID_FIRST_RESERVED.
  void Install(domid_t domid, int wake_socket, uint32_t* pending);
  // Stops and closes; a no-op if none.
  void Remove(domid_t domid);

  void RaiseVirq(domid_t domid) override;

 private:
  struct Slot {
    SpinLock lock;
    int fd = -1;
    uint32_t* pending = nullptr;
  };
  // Indexed by domid: no allocation or map lookup on the send path.
  std::unique_ptr<std::array<Slot, DOMID_FIRST_RESERVED>> slots_;
};

}  // namespace argo::transport

#endif  // TRANSPORT_VIRQ_SOCKETS_H_
