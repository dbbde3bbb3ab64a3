// A reader/writer lock whose read side touches only a per-thread slot, so
// readers on different CPUs never bounce a shared cache line. Writers are
// rare (domain create/destroy, ring register/unregister) and pay for it:
// they raise a flag and wait for every slot to drain.
//
// This plays the role of Xen's percpu_rwlock for L1 and rings_L2 (§3.4):
// with a plain rwlock every sendv does an atomic RMW on one shared word and
// two senders to disjoint rings serialise on that cache line.
//
// Fairness: readers back off while a writer is pending, so writers are not
// starved. Readers and writers both wait by spinning then yielding: every
// holder of this lock runs bounded work (no guest can make a holder block).
#ifndef ARGO_CORE_PERCPU_RWLOCK_H_
#define ARGO_CORE_PERCPU_RWLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "argo_core/mutex.h"

namespace argo {

class ABSL_LOCKABLE PerCpuRwLock {
 public:
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

 private:
  static constexpr int kSlots = 16;
  struct alignas(64) Slot {
    std::atomic<int64_t> readers{0};
  };

  // The slot of the calling thread; fixed for the thread's lifetime, so a
  // reader unlocks the slot it locked.
  static int ThisThreadSlot();

  Slot slots_[kSlots];
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
