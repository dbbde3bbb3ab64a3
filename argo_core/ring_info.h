// One registered ring, as the hypervisor sees it (Xen's argo_ring_info):
// identity, the private tx_ptr, the guest's ring frames as the hypervisor
// writes them (RingMemory), the pending-space waiters and counters.
//
// Thread safety: every mutable member is guarded by l3_mu_ (the L3 lock of
// §3.4). The identity and len are immutable.
// Invariants (under l3_mu_): tx_ptr_ < len and 16-aligned; one slot always
// stays free, so rx == tx means empty; pending_ holds at most
// kMaxPendingPerRing entries with distinct domids.
#ifndef ARGO_CORE_RING_INFO_H_
#define ARGO_CORE_RING_INFO_H_

#include <cstdint>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "argo_core/guest_memory.h"
#include "argo_core/public/argo.h"
#include "argo_core/ring_id.h"
#include "argo_core/ring_memory.h"
#include "argo_core/traffic_tap.h"
#include "argo_core/spin_lock.h"

namespace argo {

// A domain waiting for `len` bytes of payload space on a ring.
struct PendingEnt {
  domid_t domid;
  uint32_t len;
};

struct RingCounters {
  uint64_t messages_in = 0;
  uint64_t bytes_in = 0;  // payload bytes
  uint64_t eagain = 0;
};

// A point-in-time view of a ring, for the toolstack and tests.
struct RingSnapshot {
  domid_t owner;
  RingId id;
  uint32_t len;
  uint32_t tx_ptr;
  uint32_t rx_ptr;      // as last read from the guest, rounded and bounded
  uint32_t bytes_used;  // message bytes not yet consumed
  std::vector<PendingEnt> pending;
  RingCounters counters;
};

using DomidList = absl::InlinedVector<domid_t, 4>;

// Translates a sender's iovs (copied once from the guest) into parts in
// this process, skipping empty ones before their handle is checked (Xen's
// ringbuf_insert does the same). -EFAULT at the first handle outside the
// sender's memory, with the parts before it in out[0, *nparts); else 0.
int TranslateIovs(const GuestMemory& sender, const xen_argo_iov_t* iovs,
                  uint32_t niov, MessagePart* out, uint32_t* nparts);

// Xen's iov_count: validates iovs (copied once from the guest) and sums
// their lengths into *total. Returns 0, -EINVAL or -EMSGSIZE.
int IovCount(const xen_argo_iov_t* iovs, uint32_t niov, uint32_t* total);

class RingInfo {
 public:
  RingInfo(domid_t owner, RingId id, uint32_t len, RingMemory memory,
           uint32_t tx_ptr);
  RingInfo(const RingInfo&) = delete;
  RingInfo& operator=(const RingInfo&) = delete;

  domid_t owner() const { return owner_; }
  const RingId& id() const { return id_; }
  uint32_t len() const { return len_; }
  bool is_wildcard() const { return id_.partner_id == XEN_ARGO_DOMID_ANY; }

  // Whether a message of `total` payload bytes can go in now: 0,
  // -EMSGSIZE (never on this ring) or -EAGAIN (not now). No side effect:
  // the one rule for Insert, InsertHost and the toolstack's explain.
  int Admit(uint32_t total) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);

  // Xen's ringbuf_insert. Copies one message (header + the iovs, which are
  // handles into `sender`'s memory) at tx and publishes the new tx.
  // Returns the payload length, or Admit's error (EAGAIN counted), or
  // -EFAULT (a bad iov handle; nothing becomes visible). Zero-length iovs
  // are skipped before their handle is looked at, as in Xen.
  // REQUIRES: niov <= XEN_ARGO_MAXIOV; total == sum of iov_len, and
  // total <= kMaxMessageSize.
  int64_t Insert(const xen_argo_addr_t& source, uint32_t message_type,
                 const GuestMemory& sender, const xen_argo_iov_t* iovs,
                 uint32_t niov, uint32_t total)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  // The same for a message already in this process's memory (a nesting
  // forwarder's buffers): same checks, same copy, same publication.
  // REQUIRES: total == sum of parts' len, total <= kMaxMessageSize.
  int64_t InsertHost(const xen_argo_addr_t& source, uint32_t message_type,
                     absl::Span<const MessagePart> parts, uint32_t total)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);

  // Xen's ringbuf_payload_space: the largest payload a send could place now.
  uint32_t PayloadSpace() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);

  // Re-registration: the ring moves to new frames, keeping tx, waiters and
  // counters. The hypervisor's tx is written into the new header so the
  // receiver sees where data ends. Returns the old frames' memory (its
  // mappings are given back when the caller drops it, outside the lock).
  RingMemory ReplaceMemory(RingMemory memory)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  RingCounters counters() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_) {
    return counters_;
  }
  RingMemory::Form memory_form() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_) {
    return memory_.form();
  }

  // Xen's pending_requeue: records that `domid` waits for `len` bytes.
  // An existing entry's length is raised to max(old, len), as Xen's
  // pending_requeue does: a wake-up then guarantees room for any one of the
  // waiter's messages. Returns 0 (with *added telling
  // whether a new entry was made) or -EBUSY when 32 others already wait.
  int PendingRequeue(domid_t domid, uint32_t len, bool* added)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  // Xen's pending_cancel. Returns true iff `domid` was waiting.
  bool PendingCancel(domid_t domid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  // Xen's pending_find: removes every waiter whose size fits in `space` and
  // appends its domid to *woken (one-shot wake-ups).
  void PendingTakeSatisfied(uint32_t space, DomidList* woken)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  // Removes and returns every waiter (ring teardown).
  std::vector<PendingEnt> PendingTakeAll()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);

  RingSnapshot Snapshot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);

  mutable SpinLock l3_mu_;

 private:
  xen_argo_ring_t* header() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_) {
    return memory_.header();
  }
  // Reads the guest's rx_ptr exactly once, rounded up to a slot and reset to
  // 0 if out of range: the guest may write anything there at any time.
  uint32_t ReadRxOnce() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  // Bytes free for a new message (len when empty).
  uint32_t FreeBytes(uint32_t rx) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  // Copies n bytes to ring offset `at`, wrapping at len; returns the offset
  // after them. REQUIRES: at < len and n < len.
  // (Always inlined, like WriteMessage: the send path, measured.)
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint32_t CopyIntoRing(uint32_t at,
                                                     const uint8_t* src,
                                                     uint32_t n)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  void PublishTx(uint32_t tx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  // Admit for an insertion: an EAGAIN is counted against the ring.
  int AdmitCountingEagain(uint32_t total)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);
  // Writes an admitted message (header, then the parts) at tx and
  // publishes it. REQUIRES: Admit(total) == 0.
  ABSL_ATTRIBUTE_ALWAYS_INLINE int64_t WriteMessage(
      const xen_argo_addr_t& source, uint32_t message_type,
      const MessagePart* parts, uint32_t nparts, uint32_t total)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l3_mu_);

  const domid_t owner_;
  const RingId id_;
  const uint32_t len_;
  RingMemory memory_ ABSL_GUARDED_BY(l3_mu_);
  uint32_t tx_ptr_ ABSL_GUARDED_BY(l3_mu_);
  std::vector<PendingEnt> pending_ ABSL_GUARDED_BY(l3_mu_);
  RingCounters counters_ ABSL_GUARDED_BY(l3_mu_);
};

}  // namespace argo

#endif  // ARGO_CORE_RING_INFO_H_
