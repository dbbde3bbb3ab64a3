// The core's mutex: std::mutex (pthread) with Clang thread-safety
// annotations.
//
// Why not absl::Mutex: Debian's Abseil is not built with TSan, so TSan
// cannot see absl::Mutex's happens-before edges and reports every member it
// guards as racy. pthread mutexes are intercepted by TSan, so the core's
// locking is checked for real. The uncontended cost is the same (one CAS).
#ifndef ARGO_CORE_MUTEX_H_
#define ARGO_CORE_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "argo_core/lock_guard.h"

namespace argo {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

  // BasicLockable, for std::condition_variable_any.
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

using MutexLock = LockGuard<Mutex>;

}  // namespace argo

#endif  // ARGO_CORE_MUTEX_H_
