// An in-process VirqNotifier that counts VIRQs per domain and lets a guest
// thread wait for the next one (the in-process stand-in for an event
// channel). Used by the demo, tests and in-process guests.
#ifndef ARGO_CORE_VIRQ_RECORDER_H_
#define ARGO_CORE_VIRQ_RECORDER_H_

#include <condition_variable>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "argo_core/mutex.h"
#include "argo_core/virq_notifier.h"

namespace argo {

class VirqRecorder final : public VirqNotifier {
 public:
  void RaiseVirq(domid_t domid) override ABSL_LOCKS_EXCLUDED(mu_);

  // VIRQs raised on `domid` so far.
  uint64_t Count(domid_t domid) const ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until Count(domid) > seen or the timeout passes; returns the
  // count then.
  uint64_t WaitBeyond(domid_t domid, uint64_t seen, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  uint64_t CountLocked(domid_t domid) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  std::condition_variable_any raised_;
  absl::flat_hash_map<domid_t, uint64_t> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace argo

#endif  // ARGO_CORE_VIRQ_RECORDER_H_
