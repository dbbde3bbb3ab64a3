#include "argo_core/virq_recorder.h"

#include <chrono>

namespace argo {

void VirqRecorder::RaiseVirq(domid_t domid) {
  {
    MutexLock l(&mu_);
    ++counts_[domid];
  }
  raised_.notify_all();
}

uint64_t VirqRecorder::CountLocked(domid_t domid) const {
  auto it = counts_.find(domid);
  return it == counts_.end() ? 0 : it->second;
}

uint64_t VirqRecorder::Count(domid_t domid) const {
  MutexLock l(&mu_);
  return CountLocked(domid);
}

uint64_t VirqRecorder::WaitBeyond(domid_t domid, uint64_t seen,
                                  absl::Duration timeout) {
  MutexLock l(&mu_);
  // condition_variable_any releases and retakes mu_ around the wait.
  raised_.wait_for(mu_, absl::ToChronoNanoseconds(timeout),
                   [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                     return CountLocked(domid) > seen;
                   });
  return CountLocked(domid);
}

}  // namespace argo
