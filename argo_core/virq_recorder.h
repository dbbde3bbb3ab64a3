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

// Thread safety: domains are spread over shards, each with its own lock
// and condition variable, so raises for different domains (a level's
// drainers delivering to different guests) do not serialise on one lock.
class VirqRecorder final : public VirqNotifier {
 public:
  void RaiseVirq(domid_t domid) override;

  // VIRQs raised on `domid` so far.
  uint64_t Count(domid_t domid) const;

  // Waits until Count(domid) > seen or the timeout passes; returns the
  // count then.
  uint64_t WaitBeyond(domid_t domid, uint64_t seen, absl::Duration timeout);

 private:
  static constexpr int kShards = 16;
  struct alignas(64) Shard {
    uint64_t CountLocked(domid_t domid) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

    mutable Mutex mu;
    std::condition_variable_any raised;
    absl::flat_hash_map<domid_t, uint64_t> counts ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(domid_t domid) { return shards_[domid % kShards]; }
  const Shard& ShardOf(domid_t domid) const {
    return shards_[domid % kShards];
  }

  Shard shards_[kShards];
};

}  // namespace argo

#endif  // ARGO_CORE_VIRQ_RECORDER_H_
