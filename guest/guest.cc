#include "guest/guest.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "guest/errors.h"

namespace argo::guest {
namespace {

// An attached guest's VIRQs arrive on its attachment's wake socket.
class AttachmentVirqWaiter final : public VirqWaiter {
 public:
  explicit AttachmentVirqWaiter(Attachment* attachment)
      : attachment_(attachment) {}
  absl::StatusOr<bool> WaitVirq(absl::Duration timeout) override {
    return attachment_->WaitVirq(timeout);
  }

 private:
  Attachment* const attachment_;
};

// Re-words a status from ArgoGuest with the op's context; statuses that
// carry no Xen errno (e.g. out of guest pages) pass unchanged.
absl::Status Worded(const absl::Status& status, const ErrorContext& context) {
  const int e = XenErrnoOf(status);
  if (status.ok() || e == 0) return status;
  return XenError(e, ExplainXenError(e, context));
}

ErrorContext SendContext(xen_argo_port_t src_port, xen_argo_addr_t dst,
                         uint64_t bytes) {
  ErrorContext c;
  c.op = GuestOp::kSend;
  c.port = src_port;
  c.dst = dst;
  c.bytes = bytes;
  return c;
}

uint64_t TotalBytes(absl::Span<const absl::Span<const uint8_t>> parts) {
  uint64_t total = 0;
  for (const auto& part : parts) total += part.size();
  return total;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Guest>> Guest::Attach(
    const AttachOptions& options, GuestOptions guest_options) {
  absl::StatusOr<std::unique_ptr<Attachment>> attachment =
      Attachment::Attach(options);
  if (!attachment.ok()) return attachment.status();
  std::unique_ptr<Guest> g(new Guest());
  g->attachment_ = *std::move(attachment);
  g->owned_virq_ = std::make_unique<AttachmentVirqWaiter>(g->attachment_.get());
  g->virq_ = g->owned_virq_.get();
  absl::StatusOr<std::unique_ptr<ArgoGuest>> argo =
      ArgoGuest::Create(g->attachment_->port(0), g->attachment_->memory(),
                        g->attachment_->domid(), guest_options);
  if (!argo.ok()) return argo.status();
  g->argo_ = *std::move(argo);
  return g;
}

absl::StatusOr<std::unique_ptr<Guest>> Guest::Create(
    HypercallPort* port, std::shared_ptr<GuestMemory> memory, domid_t self,
    VirqWaiter* virq, GuestOptions guest_options) {
  if (port == nullptr || virq == nullptr) {
    return absl::InvalidArgumentError("a guest needs a port and a VIRQ waiter");
  }
  absl::StatusOr<std::unique_ptr<ArgoGuest>> argo =
      ArgoGuest::Create(port, std::move(memory), self, guest_options);
  if (!argo.ok()) return argo.status();
  std::unique_ptr<Guest> g(new Guest());
  g->virq_ = virq;
  g->argo_ = *std::move(argo);
  return g;
}

Guest::~Guest() = default;

absl::StatusOr<std::vector<uint64_t>> Guest::AllocatePages(uint64_t n) {
  return argo_->AllocateFrames(n);
}

void Guest::FreePages(absl::Span<const uint64_t> gfns) {
  argo_->FreeFrames(gfns);
}

absl::StatusOr<GuestRing*> Guest::RegisterRing(xen_argo_port_t port,
                                               domid_t partner, uint32_t len) {
  absl::StatusOr<GuestRing*> ring = argo_->RegisterRing(port, partner, len);
  if (ring.ok()) return ring;
  ErrorContext c;
  c.op = GuestOp::kRegisterRing;
  c.port = port;
  c.partner = partner;
  c.bytes = len;
  return Worded(ring.status(), c);
}

absl::Status Guest::UnregisterRing(GuestRing* ring) {
  ErrorContext c;
  c.op = GuestOp::kUnregisterRing;
  c.port = ring->aport();
  c.partner = ring->partner_id();
  // (ring may be freed by the call: its fields are read first.)
  return Worded(argo_->UnregisterRing(ring), c);
}

absl::StatusOr<uint32_t> Guest::Sendv(
    xen_argo_port_t src_port, xen_argo_addr_t dst,
    absl::Span<const absl::Span<const uint8_t>> parts, uint32_t type) {
  absl::StatusOr<uint32_t> sent = argo_->Sendv(src_port, dst, parts, type);
  if (sent.ok()) return sent;
  return Worded(sent.status(), SendContext(src_port, dst, TotalBytes(parts)));
}

absl::StatusOr<uint32_t> Guest::Send(xen_argo_port_t src_port,
                                     xen_argo_addr_t dst,
                                     absl::Span<const uint8_t> data,
                                     uint32_t type) {
  const absl::Span<const uint8_t> parts[] = {data};
  return Sendv(src_port, dst, parts, type);
}

absl::StatusOr<uint32_t> Guest::SendImplicit(xen_argo_port_t src_port,
                                             absl::Span<const uint8_t> data,
                                             uint32_t type) {
  return Send(src_port, kImplicitDestination, data, type);
}

absl::StatusOr<uint32_t> Guest::SendvWaitingForSpace(
    xen_argo_port_t src_port, xen_argo_addr_t dst,
    absl::Span<const absl::Span<const uint8_t>> parts, uint32_t type,
    absl::Duration timeout) {
  const absl::Time deadline = timeout == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : absl::Now() + timeout;
  const uint64_t bytes = TotalBytes(parts);
  // The notify entry names the ring as the send does; for an implicit send
  // the sentinel's aport is the *source* port (DESIGN §4, FillRingData).
  RingQuery query;
  query.ring = dst.domain_id == ARGO_DOMID_IMPLICIT
                   ? xen_argo_addr_t{src_port, ARGO_DOMID_IMPLICIT, 0}
                   : dst;
  query.space_required = static_cast<uint32_t>(bytes);
  for (;;) {
    absl::StatusOr<uint32_t> sent = argo_->Sendv(src_port, dst, parts, type);
    const int e = XenErrnoOf(sent.status());
    if (sent.ok() || (e != XEN_EAGAIN && e != XEN_EBUSY)) {
      if (sent.ok()) return sent;
      return Worded(sent.status(), SendContext(src_port, dst, bytes));
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return XenError(
          e, absl::StrCat(ExplainXenError(e, SendContext(src_port, dst, bytes)),
                          "; no space within ", absl::FormatDuration(timeout)));
    }
    // EBUSY: we are not queued, so no VIRQ is promised; poll.
    absl::Duration wait = e == XEN_EBUSY ? absl::Milliseconds(1) : left;
    if (e == XEN_EAGAIN) {
      absl::StatusOr<std::vector<xen_argo_ring_data_ent_t>> ents =
          argo_->Notify(absl::MakeConstSpan(&query, 1));
      if (!ents.ok()) {
        ErrorContext c = SendContext(src_port, dst, bytes);
        c.op = GuestOp::kNotify;
        return Worded(ents.status(), c);
      }
      const uint16_t flags = (*ents)[0].flags;
      // Space appeared between the send and the query: retry at once.
      if (flags & XEN_ARGO_RING_SUFFICIENT) continue;
      // No ring the query can see: it went away (the retry learns that),
      // or it is in another level (cabled up to the parent, or a child
      // level's buffers), where the send's EAGAIN queued our wake-up but
      // notify cannot see the ring. Poll, and take the VIRQ if it comes.
      // The wait queue full: poll too.
      if (!(flags & XEN_ARGO_RING_EXISTS) || (flags & XEN_ARGO_RING_EBUSY)) {
        wait = absl::Milliseconds(1);
      }
    }
    absl::StatusOr<bool> raised = virq_->WaitVirq(std::min(wait, left));
    if (!raised.ok()) return XenError(XEN_EIO, ExplainXenError(XEN_EIO));
  }
}

absl::StatusOr<uint32_t> Guest::SendWaitingForSpace(
    xen_argo_port_t src_port, xen_argo_addr_t dst,
    absl::Span<const uint8_t> data, uint32_t type, absl::Duration timeout) {
  const absl::Span<const uint8_t> parts[] = {data};
  return SendvWaitingForSpace(src_port, dst, parts, type, timeout);
}

absl::Status Guest::NotifyNull() {
  return Worded(argo_->NotifyNull(), ErrorContext{});
}

absl::StatusOr<std::vector<xen_argo_ring_data_ent_t>> Guest::Notify(
    absl::Span<const RingQuery> queries) {
  absl::StatusOr<std::vector<xen_argo_ring_data_ent_t>> ents =
      argo_->Notify(queries);
  if (ents.ok()) return ents;
  ErrorContext c;
  c.op = GuestOp::kNotify;
  if (queries.size() == 1) {
    c.port = queries[0].ring.aport;
    c.dst = queries[0].ring;
  }
  return Worded(ents.status(), c);
}

absl::StatusOr<bool> Guest::WaitVirq(absl::Duration timeout) {
  return virq_->WaitVirq(timeout);
}

int64_t Guest::Hypercall(unsigned int cmd, uint64_t arg1, uint64_t arg2,
                         uint64_t arg3, uint64_t arg4) {
  return argo_->Hypercall(cmd, arg1, arg2, arg3, arg4);
}

}  // namespace argo::guest
