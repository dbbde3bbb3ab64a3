#include "argo_core/ring_info.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

#include "absl/base/macros.h"
#include "argo_core/argo_limits.h"
#include "argo_core/public/xen_errno.h"

namespace argo {

RingInfo::RingInfo(domid_t owner, RingId id, uint32_t len, RingMemory memory,
                   uint32_t tx_ptr)
    : owner_(owner),
      id_(id),
      len_(len),
      memory_(std::move(memory)),
      tx_ptr_(tx_ptr) {}

uint32_t RingInfo::ReadRxOnce() const {
  uint32_t rx = std::atomic_ref<uint32_t>(header()->rx_ptr)
                    .load(std::memory_order_acquire);
  uint64_t rounded = RoundupMessage(rx);
  return rounded >= len_ ? 0 : static_cast<uint32_t>(rounded);
}

uint32_t RingInfo::FreeBytes(uint32_t rx) const {
  if (rx == tx_ptr_) return len_;
  return rx > tx_ptr_ ? rx - tx_ptr_ : len_ - tx_ptr_ + rx;
}

uint32_t RingInfo::PayloadSpace() const {
  uint32_t free = FreeBytes(ReadRxOnce());
  constexpr uint32_t kReserve = kMessageHeaderSize + RoundupMessage(1);
  return free < kReserve ? 0 : free - kReserve;
}

uint32_t RingInfo::CopyIntoRing(uint32_t at, const uint8_t* src, uint32_t n) {
  ABSL_ASSERT(at < len_ && n < len_);
  uint32_t first = std::min(n, len_ - at);
  // at + first <= len: cannot run past the ring's end.
  memory_.Write(kRingHeaderSize + at, src, first);
  // n - first < len: the tail lands at the start of the ring.
  if (n != first) memory_.Write(kRingHeaderSize, src + first, n - first);
  at += n;
  return at >= len_ ? at - len_ : at;
}

void RingInfo::PublishTx(uint32_t tx) {
  tx_ptr_ = tx;
  // Release: the receiver's acquire load of tx_ptr sees the message bytes.
  std::atomic_ref<uint32_t>(header()->tx_ptr)
      .store(tx, std::memory_order_release);
}

int RingInfo::Admit(uint32_t total) const {
  if (len_ <= kMessageHeaderSize + RoundupMessage(total)) return -XEN_EMSGSIZE;
  // ">=": one slot always stays free, so a full ring never looks empty.
  if (RoundupMessage(total) + kMessageHeaderSize >= FreeBytes(ReadRxOnce())) {
    return -XEN_EAGAIN;
  }
  return 0;
}

int RingInfo::AdmitCountingEagain(uint32_t total) {
  const int rc = Admit(total);
  if (rc == -XEN_EAGAIN) ++counters_.eagain;
  return rc;
}

int TranslateIovs(const GuestMemory& sender, const xen_argo_iov_t* iovs,
                  uint32_t niov, MessagePart* out, uint32_t* nparts) {
  *nparts = 0;
  for (uint32_t i = 0; i < niov; ++i) {
    if (iovs[i].iov_len == 0) continue;
    const uint64_t gpa = reinterpret_cast<uint64_t>(iovs[i].iov_hnd.p);
    const uint8_t* data = sender.Translate(gpa, iovs[i].iov_len);
    if (data == nullptr) return -XEN_EFAULT;
    out[(*nparts)++] = MessagePart{data, iovs[i].iov_len};
  }
  return 0;
}

int64_t RingInfo::Insert(const xen_argo_addr_t& source, uint32_t message_type,
                         const GuestMemory& sender, const xen_argo_iov_t* iovs,
                         uint32_t niov, uint32_t total) {
  if (int rc = AdmitCountingEagain(total); rc != 0) return rc;
  // Resolve every source before writing anything, so a bad handle leaves
  // the ring exactly as it was.
  MessagePart parts[XEN_ARGO_MAXIOV];
  uint32_t nparts = 0;
  if (int rc = TranslateIovs(sender, iovs, niov, parts, &nparts); rc != 0) {
    return rc;
  }
  return WriteMessage(source, message_type, parts, nparts, total);
}

int64_t RingInfo::InsertHost(const xen_argo_addr_t& source,
                             uint32_t message_type,
                             absl::Span<const MessagePart> parts,
                             uint32_t total) {
  if (int rc = AdmitCountingEagain(total); rc != 0) return rc;
  return WriteMessage(source, message_type, parts.data(),
                      static_cast<uint32_t>(parts.size()), total);
}

int64_t RingInfo::WriteMessage(const xen_argo_addr_t& source,
                               uint32_t message_type, const MessagePart* parts,
                               uint32_t nparts, uint32_t total) {
  struct xen_argo_ring_message_header header_out = {};
  header_out.len = total + kMessageHeaderSize;
  header_out.source = source;
  header_out.message_type = message_type;
  uint32_t tx = tx_ptr_;
  // tx is 16-aligned and len a multiple of 16: the header never wraps.
  memory_.Write(kRingHeaderSize + tx,
                reinterpret_cast<const uint8_t*>(&header_out),
                kMessageHeaderSize);
  tx += kMessageHeaderSize;
  if (tx == len_) tx = 0;
  for (uint32_t i = 0; i < nparts; ++i) {
    if (parts[i].len != 0) tx = CopyIntoRing(tx, parts[i].data, parts[i].len);
  }
  uint64_t next = RoundupMessage(tx);
  PublishTx(next >= len_ ? static_cast<uint32_t>(next - len_)
                         : static_cast<uint32_t>(next));
  ++counters_.messages_in;
  counters_.bytes_in += total;
  return total;
}

RingMemory RingInfo::ReplaceMemory(RingMemory memory) {
  std::swap(memory_, memory);
  PublishTx(tx_ptr_);
  return memory;
}

int RingInfo::PendingRequeue(domid_t domid, uint32_t len, bool* added) {
  for (PendingEnt& ent : pending_) {
    if (ent.domid == domid) {
      ent.len = std::max(ent.len, len);
      *added = false;
      return 0;
    }
  }
  if (pending_.size() >= kMaxPendingPerRing) return -XEN_EBUSY;
  pending_.push_back({domid, len});
  *added = true;
  return 0;
}

bool RingInfo::PendingCancel(domid_t domid) {
  auto it =
      std::find_if(pending_.begin(), pending_.end(),
                   [domid](const PendingEnt& e) { return e.domid == domid; });
  if (it == pending_.end()) return false;
  pending_.erase(it);
  return true;
}

void RingInfo::PendingTakeSatisfied(uint32_t space, DomidList* woken) {
  auto keep =
      std::partition(pending_.begin(), pending_.end(),
                     [space](const PendingEnt& e) { return e.len > space; });
  for (auto it = keep; it != pending_.end(); ++it) woken->push_back(it->domid);
  pending_.erase(keep, pending_.end());
}

std::vector<PendingEnt> RingInfo::PendingTakeAll() {
  return std::exchange(pending_, {});
}

RingSnapshot RingInfo::Snapshot() const {
  uint32_t rx = ReadRxOnce();
  return RingSnapshot{
      .owner = owner_,
      .id = id_,
      .len = len_,
      .tx_ptr = tx_ptr_,
      .rx_ptr = rx,
      .bytes_used = len_ - FreeBytes(rx),
      .pending = pending_,
      .counters = counters_,
  };
}

}  // namespace argo
