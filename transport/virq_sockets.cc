#include "transport/virq_sockets.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace argo::transport {

VirqSockets::VirqSockets()
    : slots_(std::make_unique<std::array<Slot, DOMID_FIRST_RESERVED>>()) {}

VirqSockets::~VirqSockets() {
  for (Slot& slot : *slots_) {
    if (slot.fd >= 0) close(slot.fd);
  }
}

void VirqSockets::Install(domid_t domid, int wake_socket, uint32_t* pending) {
  Slot& slot = (*slots_)[domid];
  int old;
  {
    SpinLockGuard l(&slot.lock);
    old = slot.fd;
    slot.fd = wake_socket;
    slot.pending = pending;
  }
  if (old >= 0) close(old);
}

void VirqSockets::Remove(domid_t domid) {
  if (domid >= DOMID_FIRST_RESERVED) return;
  Slot& slot = (*slots_)[domid];
  int old;
  {
    // Once this returns no RaiseVirq holds the descriptor: its number may
    // be reused by the next open without a stray write reaching it.
    SpinLockGuard l(&slot.lock);
    old = slot.fd;
    slot.fd = -1;
    slot.pending = nullptr;
  }
  if (old >= 0) close(old);
}

void VirqSockets::RaiseVirq(domid_t domid) {
  if (domid >= DOMID_FIRST_RESERVED) return;
  Slot& slot = (*slots_)[domid];
  SpinLockGuard l(&slot.lock);
  if (slot.fd < 0) return;
  // Already pending: the guest has a wake-up to take (or is taking it).
  if (__atomic_exchange_n(slot.pending, 1u, __ATOMIC_ACQ_REL) != 0) return;
  // Never blocks, never signals: a full buffer (a guest that never reads)
  // fails with EAGAIN, and the VIRQ is pending anyway.
  const char one = 1;
  [[maybe_unused]] ssize_t n =
      send(slot.fd, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace argo::transport
