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
#include "argo_core/mutex.h"

namespace argo {

class ABSL_LOCKABLE PerCpuRwLock {
 public:
  static constexpr int kSlots = 32;

  PerCpuRwLock() = default;
  PerCpuRwLock(const PerCpuRwLock&) = delete;
  PerCpuRwLock& operator=(const PerCpuRwLock&) = delete;

  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION();
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION();
  void WriterLock() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  void WriterUnlock() ABSL_UNLOCK_FUNCTION();

  // For the analysis only: the lock cannot tell cheaply who holds it.
  void AssertReaderHeld() const ABSL_ASSERT_SHARED_LOCK() {}
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

  // The calling thread's slot, or -1 if it shares the overflow counter.
  static int ThisThreadSlot();

 private:
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

class ABSL_SCOPED_LOCKABLE WriteGuard {
 public:
  explicit WriteGuard(PerCpuRwLock* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
      : mu_(mu) {
    mu_->WriterLock();
  }
  ~WriteGuard() ABSL_UNLOCK_FUNCTION() { mu_->WriterUnlock(); }
  WriteGuard(const WriteGuard&) = delete;
  WriteGuard& operator=(const WriteGuard&) = delete;

 private:
  PerCpuRwLock* const mu_;
};

}  // namespace argo

#endif  // ARGO_CORE_PERCPU_RWLOCK_H_
