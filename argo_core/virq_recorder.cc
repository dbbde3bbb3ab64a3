#include "argo_core/virq_recorder.h"

#include <chrono>

namespace argo {

void VirqRecorder::RaiseVirq(domid_t domid) {
  Shard& s = ShardOf(domid);
  {
    MutexLock l(&s.mu);
    ++s.counts[domid];
  }
  s.raised.notify_all();
}

uint64_t VirqRecorder::Shard::CountLocked(domid_t domid) const {
  auto it = counts.find(domid);
  return it == counts.end() ? 0 : it->second;
}

uint64_t VirqRecorder::Count(domid_t domid) const {
  const Shard& s = ShardOf(domid);
  MutexLock l(&s.mu);
  return s.CountLocked(domid);
}

uint64_t VirqRecorder::WaitBeyond(domid_t domid, uint64_t seen,
                                  absl::Duration timeout) {
  Shard& s = ShardOf(domid);
  MutexLock l(&s.mu);
  // condition_variable_any releases and retakes the lock around the wait.
  s.raised.wait_for(s.mu, absl::ToChronoNanoseconds(timeout),
                    [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                      return s.CountLocked(domid) > seen;
                    });
  return s.CountLocked(domid);
}

}  // namespace argo
