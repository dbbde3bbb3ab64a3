#include "argo_core/virq_recorder.h"

namespace argo {

void VirqRecorder::RaiseVirq(domid_t domid) {
  absl::MutexLock l(&mu_);
  ++counts_[domid];
}

uint64_t VirqRecorder::Count(domid_t domid) const {
  absl::MutexLock l(&mu_);
  auto it = counts_.find(domid);
  return it == counts_.end() ? 0 : it->second;
}

uint64_t VirqRecorder::WaitBeyond(domid_t domid, uint64_t seen,
                                  absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  auto beyond = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = counts_.find(domid);
    return it != counts_.end() && it->second > seen;
  };
  mu_.AwaitWithTimeout(absl::Condition(&beyond), timeout);
  auto it = counts_.find(domid);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace argo
