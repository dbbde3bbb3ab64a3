// The per-ring L3 lock: a test-and-test-and-set spinlock. Taking it is one
// locked instruction and releasing it a plain store (a pthread mutex costs
// two locked instructions), which matters on the sendv hot path. Holders
// run bounded work (one message copy, at most 16 MiB); waiters back off to
// yield. TSan understands it (acquire/release atomics).
#ifndef ARGO_CORE_SPIN_LOCK_H_
#define ARGO_CORE_SPIN_LOCK_H_

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "argo_core/lock_guard.h"
#include "argo_core/spin_backoff.h"

namespace argo {

class ABSL_LOCKABLE SpinLock {
 public:
  SpinLock() = default;
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    if (__builtin_expect(!locked_.exchange(true, std::memory_order_acquire),
                         1)) {
      return;
    }
    LockSlow();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    locked_.store(false, std::memory_order_release);
  }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  // Out of line so the uncontended path inlines into its callers.
  __attribute__((noinline)) void LockSlow() {
    do {
      SpinBackoff backoff;
      while (locked_.load(std::memory_order_relaxed)) backoff.Pause();
    } while (locked_.exchange(true, std::memory_order_acquire));
  }

  std::atomic<bool> locked_{false};
};

using SpinLockGuard = LockGuard<SpinLock>;

}  // namespace argo

#endif  // ARGO_CORE_SPIN_LOCK_H_
