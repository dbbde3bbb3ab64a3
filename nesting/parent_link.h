// A level's link to its parent (DESIGN §7, docs/nesting.md): the level is a
// domain `u` of its parent, and acts there through a guest::Guest (attached
// over the guest transport, or in the parent's process — the same API).
//
// Upward: the level's hypervisor hands it every send cabled to parent:q
// (Uplink); it sends the message in the parent as an implicit send from
// u's port q and returns the parent's verdict to the sender (synchronous
// forwarding).
//
// Downward: u has one receive buffer per CPU of the level — a wildcard ring
// on ARGO_LEVEL_RX_PORT_BASE + cpu — that the parent fills (one flow
// always into the same buffer). Each buffer has its own drainer that reads
// messages in place and delivers each by the level's table entry
// parent:r -> g:p; drainers share no lock with each other. A full guest
// ring stops that drainer (the message stays in the buffer, the buffer
// fills, the parent's senders get EAGAIN and a wake-up): back-pressure,
// never loss. A message that cannot be delivered (no cable, no ring,
// malformed, path too deep) is dropped and counted in stats().
//
// Threads: with `threads`, one drainer per buffer and one thread waiting
// for u's VIRQs that wakes the drainers and the level's senders waiting
// for space upstream; without, nothing drains until Pump() (the
// simulator's inline mode: deterministic tests and per-message cost).
#ifndef NESTING_PARENT_LINK_H_
#define NESTING_PARENT_LINK_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "argo_core/mutex.h"
#include "argo_core/ring_reader.h"
#include "argo_core/uplink.h"
#include "guest/guest.h"
#include "nesting/level.h"

namespace argo::nesting {

struct ParentLinkOptions {
  uint32_t cpus = 1;  // receive buffers and drainers, 1..ARGO_LEVEL_MAX_CPUS
  uint32_t buffer_bytes = 256 * 1024;  // each receive buffer's ring length
  bool threads = true;                 // false: drain only in Pump()
};

class ParentLink final : public Uplink {
 public:
  // Registers the receive buffers as `parent`'s domain, becomes `level`'s
  // uplink and starts draining. The parent must know u as a child level
  // with `cpus` buffers (an attached level says so when it attaches; for
  // an in-process parent the caller calls Hypervisor::SetChildLevel).
  // `level` must outlive the link.
  static absl::StatusOr<std::unique_ptr<ParentLink>> Start(
      Level* level, std::unique_ptr<guest::Guest> parent,
      ParentLinkOptions options);
  // No longer the level's uplink (sends cabled up get -ENOSYS after),
  // drainers stopped; the parent guest detaches.
  ~ParentLink() override;
  ParentLink(const ParentLink&) = delete;
  ParentLink& operator=(const ParentLink&) = delete;

  int64_t SendUp(const UpwardMessage& message) override;

  // Drains every buffer once on the calling thread, delivering what fits;
  // returns the messages consumed (delivered or dropped). With drainer
  // threads it does nothing and returns 0: each buffer has one reader, its
  // drainer (so Stack::PumpAll is harmless on a threaded stack).
  size_t Pump();
  // Drains buffer `cpu` once on the calling thread, as its drainer would;
  // returns the messages consumed (0 for no such buffer). N threads each
  // pumping their own buffer run as the N drainers do (the per-CPU
  // throughput benchmark). 0 with drainer threads, as Pump. REQUIRES: no
  // other thread drains buffer `cpu` at the same time.
  size_t PumpBuffer(uint32_t cpu);

  struct Stats {
    uint64_t up_sent = 0;        // taken by the parent
    uint64_t up_refused = 0;     // the parent's errno went to the sender
    uint64_t down_delivered = 0;
    uint64_t down_blocked = 0;   // a guest ring full: the drainer waited
    uint64_t dropped_no_cable = 0;   // parent:r has no cable here
    uint64_t dropped_refused = 0;    // the delivery was refused (no ring...)
    uint64_t dropped_malformed = 0;  // not a well-formed path message
    uint64_t dropped_loop = 0;       // the path would exceed its depth
  };
  Stats stats() const;
  domid_t domid_in_parent() const { return parent_->domid(); }
  uint32_t cpus() const { return static_cast<uint32_t>(buffers_.size()); }
  // The parent went away (its transport failed): upward sends get
  // -ECONNREFUSED, nothing comes down.
  bool parent_lost() const { return lost_.load(std::memory_order_relaxed); }

 private:
  // One receive buffer and its drainer's state: touched by that drainer
  // (and the VIRQ thread's wake-up) only. argo::Mutex, not absl::Mutex,
  // so TSan sees the edges (argo_core/mutex.h).
  struct alignas(64) Buffer {
    GuestRing* ring = nullptr;
    std::unique_ptr<RingReader> reader;
    Mutex mu;
    std::condition_variable_any wake;  // pending became true
    bool pending ABSL_GUARDED_BY(mu) = false;
    std::thread drainer;
    // The space wake-up (the drainer's only state besides the reader): a
    // parent sender can be waiting for room in this buffer only if it was
    // at least half full (the parent admits messages of at most half a
    // buffer), so the drainer notifies the parent only after a drain that
    // saw that. A racing sender saw the ring before the last Consume at
    // worst: `last_consumed` adds what that Consume freed.
    uint32_t last_consumed = 0;
    bool notify_due = false;
    // Written by this buffer's drainer only, summed by stats(): drainers
    // share no counter line either (one shared line costs a cross-core
    // round trip per message and serialises them).
    alignas(64) std::atomic<uint64_t> down_delivered{0}, down_blocked{0},
        dropped_no_cable{0}, dropped_refused{0}, dropped_malformed{0},
        dropped_loop{0};
  };
  enum class Drained { kEmpty, kBlocked };

  ParentLink(Level* level, std::unique_ptr<guest::Guest> parent);
  // Delivers buffer `b`'s messages until it is empty or a guest ring is
  // full; *consumed counts the messages consumed.
  Drained DrainBuffer(Buffer& b, size_t* consumed);
  // Whether the parent must be told (notify) that `b` has room now: true
  // once per drain that saw it half full. Clears it.
  static bool TakeNotifyDue(Buffer& b) {
    const bool due = b.notify_due;
    b.notify_due = false;
    return due;
  }
  // Records what a look at `b` saw: `in_use` bytes in the ring.
  static void SawInUse(Buffer& b, uint32_t in_use) {
    if (in_use + b.last_consumed >= b.ring->len() / 2) b.notify_due = true;
  }
  // Delivers one message; false: the destination is full, keep it.
  bool DeliverOne(Buffer& b, const RingReader::Peeked& m);
  void DrainerLoop(Buffer* b);
  void VirqLoop();
  void WakeUpstreamWaiters();
  void Stop();

  Level* const level_;
  std::unique_ptr<guest::Guest> parent_;
  std::vector<std::unique_ptr<Buffer>> buffers_;
  std::thread virq_thread_;
  bool threads_ = false;  // the drainers run: Pump and PumpBuffer are off
  std::atomic<bool> stopping_{false};
  std::atomic<bool> lost_{false};

  // Senders here that got EAGAIN from upstream: woken (VIRQ) when the
  // parent raises u's VIRQ. At most one entry per domain.
  Mutex waiters_mu_;
  absl::flat_hash_set<domid_t> upstream_waiters_ ABSL_GUARDED_BY(waiters_mu_);

  // Upward counters: the level's senders'.
  struct alignas(64) UpCounters {
    std::atomic<uint64_t> up_sent{0}, up_refused{0};
  };
  UpCounters counters_;
};

}  // namespace argo::nesting

#endif  // NESTING_PARENT_LINK_H_
