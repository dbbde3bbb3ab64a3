// A reader/writer lock whose read side touches only the calling thread's
// own slot: one locked instruction to enter, a plain store to leave, and no
// cache line shared between readers on different CPUs. Writers are rare
// (domain create/destroy, ring register/unregister) and pay for it: they
// raise a flag and wait for every slot to drain.
//
// This plays the role of Xen's percpu_rwlock for L1 and rings_L2 (§3.4):
// with a plain rwlock every sendv does two atomic RMWs on one shared word,
// and two senders to disjoint rings serialise on that cache line.
//
// Slots: the first kSlots threads that take any PerCpuRwLock get a slot of
// their own for their lifetime (released at thread exit); later threads
// share one overflow counter (correct, just slower).
//
// Fairness: readers back off while a writer is pending, so writers are not
// starved. Both sides wait by spinning, then yielding: every holder runs
// bounded work (no guest can make a holder block).
//
// Not reentrant: a thread must not take the same lock twice for read (a
// writer arriving in between would deadlock it).
#ifndef ARGO_CORE_PERCPU_RWLOCK_H_
#define ARGO_CORE_PERCPU_RWLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "argo_core/lock_guard.h"
#include "argo_core/mutex.h"

namespace argo {

namespace internal_percpu_rwlock {
// The calling thread's slot: -2 before its first lock, -1 if it shares the
// overflow counter. Trivially initialised, so reading it is one TLS load.
extern thread_local int cached_slot;
}  // namespace internal_percpu_rwlock

class ABSL_LOCKABLE PerCpuRwLock {
 public:
  static constexpr int kSlots = 32;

  PerCpuRwLock() = default;
  PerCpuRwLock(const PerCpuRwLock&) = delete;
  PerCpuRwLock& operator=(const PerCpuRwLock&) = delete;

  // Inline fast paths: a thread with its own slot and no writer pending.
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() {
    const int slot = internal_percpu_rwlock::cached_slot;
    if (__builtin_expect(slot >= 0, 1)) {
      slots_[slot].held.exchange(1, std::memory_order_seq_cst);
      if (__builtin_expect(!writer_pending_.load(std::memory_order_seq_cst),
                           1)) {
        return;
      }
      slots_[slot].held.store(0, std::memory_order_release);
    }
    ReaderLockSlow();
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() {
    const int slot = internal_percpu_rwlock::cached_slot;
    if (__builtin_expect(slot >= 0, 1)) {
      slots_[slot].held.store(0, std::memory_order_release);
    } else {
      overflow_readers_.fetch_sub(1, std::memory_order_release);
    }
  }
  // For write (absl::Mutex names, so LockGuard serves it).
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  void Unlock() ABSL_UNLOCK_FUNCTION();

  // For the analysis only: the lock cannot tell cheaply who holds it.
  void AssertReaderHeld() const ABSL_ASSERT_SHARED_LOCK() {}
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

  // The calling thread's slot, or -1 if it shares the overflow counter.
  static int ThisThreadSlot();

 private:
  // Leases a slot on first use, waits out writers, or uses the overflow
  // counter; then holds the lock for read.
  void ReaderLockSlow();

  struct alignas(64) Slot {
    std::atomic<uint32_t> held{0};  // 0 or 1: only its thread writes it
  };

  Slot slots_[kSlots];
  alignas(64) std::atomic<uint32_t> overflow_readers_{0};
  alignas(64) std::atomic<bool> writer_pending_{false};
  Mutex writers_mu_;  // serialises writers
};

class ABSL_SCOPED_LOCKABLE ReadGuard {
 public:
  explicit ReadGuard(PerCpuRwLock* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->ReaderLock();
  }
  ~ReadGuard() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;

 private:
  PerCpuRwLock* const mu_;
};

using WriteGuard = LockGuard<PerCpuRwLock>;

}  // namespace argo

#endif  // ARGO_CORE_PERCPU_RWLOCK_H_
