// One scoped holder for every exclusive lock of the core (Mutex, SpinLock,
// PerCpuRwLock for write): takes the lock for its scope, annotated for
// Clang's thread-safety analysis.
#ifndef ARGO_CORE_LOCK_GUARD_H_
#define ARGO_CORE_LOCK_GUARD_H_

#include "absl/base/thread_annotations.h"

namespace argo {

// REQUIRES: Lock has Lock() and Unlock().
template <typename Lock>
class ABSL_SCOPED_LOCKABLE LockGuard {
 public:
  explicit LockGuard(Lock* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~LockGuard() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock* const mu_;
};

}  // namespace argo

#endif  // ARGO_CORE_LOCK_GUARD_H_
