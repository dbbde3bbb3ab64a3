// guest::Guest: libargo_guest's C++ face. One object per domain this
// process acts as: the typed Argo calls (ArgoGuest over vCPU 0's hypercall
// port), page allocation in guest memory, and VIRQ waits. Attached guest
// processes and in-process guests use the same API; only construction
// differs.
//
// Errors carry the Xen errno (argo::XenErrnoOf) and say it in words
// (guest/errors.h): "ECONNREFUSED: port 7 is not cabled".
//
// VIRQ_ARGO has no payload, and one wait consumes every pending raise: a
// guest that both sends (SendWaitingForSpace waits for VIRQs) and receives
// must drain its rings after any wait before it waits again.
//
// Thread safety: every call may come from any thread; the hypercalls are
// serialised (one port). A GuestRing is read by one thread at a time.
#ifndef GUEST_GUEST_H_
#define GUEST_GUEST_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "argo_core/guest/argo_guest.h"
#include "argo_core/guest/hypercall_port.h"
#include "argo_core/guest_memory.h"
#include "argo_core/public/argo.h"
#include "guest/attachment.h"
#include "guest/virq_waiter.h"

namespace argo::guest {

// The implicit destination (DESIGN §4): "wherever my source port is cabled".
inline constexpr xen_argo_addr_t kImplicitDestination = {0, ARGO_DOMID_IMPLICIT,
                                                         0};

class Guest {
 public:
  // A guest process: attaches over the daemon's attach socket (errors as
  // Attachment::Attach). Detaches on destruction, which the daemon treats
  // as a crash of the domain (its rings are torn down).
  static absl::StatusOr<std::unique_ptr<Guest>> Attach(
      const AttachOptions& options, GuestOptions guest_options = {});

  // A guest in the hypervisor's process (tests, the simulator): `port`
  // reaches the hypervisor as domain `self`, whose memory is `memory`;
  // `virq` waits for that domain's VIRQs. `port` and `virq` must outlive
  // the Guest.
  static absl::StatusOr<std::unique_ptr<Guest>> Create(
      HypercallPort* port, std::shared_ptr<GuestMemory> memory, domid_t self,
      VirqWaiter* virq, GuestOptions guest_options = {});

  ~Guest();
  Guest(const Guest&) = delete;
  Guest& operator=(const Guest&) = delete;

  domid_t domid() const { return argo_->domid(); }
  // This domain's memory as this process maps it (translate gfns with
  // memory().Translate(gfn * 4096, n)).
  const GuestMemory& memory() const { return argo_->memory(); }
  // Null for an in-process guest.
  Attachment* attachment() { return attachment_.get(); }

  // `n` guest-physical frames for the caller's own use (e.g. buffers for
  // raw hypercalls); FreePages returns them.
  absl::StatusOr<std::vector<uint64_t>> AllocatePages(uint64_t n);
  void FreePages(absl::Span<const uint64_t> gfns);

  // Registers a ring of `len` bytes on `port` taking messages from
  // `partner`, or from anyone with XEN_ARGO_DOMID_ANY (a wildcard ring).
  // The ring is valid until UnregisterRing or the Guest's end.
  absl::StatusOr<GuestRing*> RegisterRing(xen_argo_port_t port, domid_t partner,
                                          uint32_t len);
  absl::Status UnregisterRing(GuestRing* ring);

  // sendv from this domain's `src_port`; `dst` may be kImplicitDestination.
  // Returns the payload length. A full ring is Unavailable (EAGAIN).
  absl::StatusOr<uint32_t> Sendv(
      xen_argo_port_t src_port, xen_argo_addr_t dst,
      absl::Span<const absl::Span<const uint8_t>> parts, uint32_t type);
  absl::StatusOr<uint32_t> Send(xen_argo_port_t src_port, xen_argo_addr_t dst,
                                absl::Span<const uint8_t> data, uint32_t type);
  absl::StatusOr<uint32_t> SendImplicit(xen_argo_port_t src_port,
                                        absl::Span<const uint8_t> data,
                                        uint32_t type);

  // Sends, and while the ring is full (EAGAIN) asks the hypervisor for
  // space (a notify entry for `dst`, the implicit sentinel for implicit
  // sends), waits for VIRQ_ARGO and retries, until `timeout` has passed:
  // then EAGAIN. EBUSY (32 senders already wait) is retried too, by
  // polling every millisecond, since no wake-up will come for it.
  absl::StatusOr<uint32_t> SendvWaitingForSpace(
      xen_argo_port_t src_port, xen_argo_addr_t dst,
      absl::Span<const absl::Span<const uint8_t>> parts, uint32_t type,
      absl::Duration timeout);
  absl::StatusOr<uint32_t> SendWaitingForSpace(xen_argo_port_t src_port,
                                               xen_argo_addr_t dst,
                                               absl::Span<const uint8_t> data,
                                               uint32_t type,
                                               absl::Duration timeout);

  // notify(NULL): "I consumed; wake senders waiting on my rings".
  absl::Status NotifyNull();
  // notify with queries; a query's ring may be {src_port,
  // ARGO_DOMID_IMPLICIT}: "the ring my port src_port is cabled to".
  absl::StatusOr<std::vector<xen_argo_ring_data_ent_t>> Notify(
      absl::Span<const RingQuery> queries);

  // True iff VIRQ_ARGO was raised, false on timeout (VirqWaiter).
  absl::StatusOr<bool> WaitVirq(absl::Duration timeout);

  // The raw hypercall, Xen's convention: >= 0, or a negative Xen errno.
  int64_t Hypercall(unsigned int cmd, uint64_t arg1, uint64_t arg2,
                    uint64_t arg3, uint64_t arg4);

 private:
  Guest() = default;

  // Destroyed last: argo_ and virq_ use the attachment's port and socket.
  std::unique_ptr<Attachment> attachment_;
  std::unique_ptr<VirqWaiter> owned_virq_;
  VirqWaiter* virq_ = nullptr;
  std::unique_ptr<ArgoGuest> argo_;
};

}  // namespace argo::guest

#endif  // GUEST_GUEST_H_
