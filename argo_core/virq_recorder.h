// An in-process VirqNotifier that counts VIRQs per domain and lets a guest
// thread wait for the next one (the in-process stand-in for an event
// channel). Used by the demo, tests, in-process guests and the nesting
// simulator.
#ifndef ARGO_CORE_VIRQ_RECORDER_H_
#define ARGO_CORE_VIRQ_RECORDER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "argo_core/mutex.h"
#include "argo_core/virq_notifier.h"

namespace argo {

// Thread safety: a raise is one atomic add on the domain's own counter, a
// cache line of its own, and takes a lock only when a thread waits on that
// domain; so raises for different domains (a level's drainers delivering
// to different guests) share nothing. Waiters sleep on one of a few
// shards' condition variables.
class VirqRecorder final : public VirqNotifier {
 public:
  VirqRecorder();
  ~VirqRecorder() override;
  VirqRecorder(const VirqRecorder&) = delete;
  VirqRecorder& operator=(const VirqRecorder&) = delete;

  void RaiseVirq(domid_t domid) override;

  // VIRQs raised on `domid` so far.
  uint64_t Count(domid_t domid) const;

  // Waits until Count(domid) > seen or the timeout passes; returns the
  // count then.
  uint64_t WaitBeyond(domid_t domid, uint64_t seen, absl::Duration timeout);

 private:
  // One domain's: made on its first raise or wait, never freed before the
  // recorder.
  struct alignas(64) Counter {
    std::atomic<uint64_t> raised{0};
    std::atomic<int> waiters{0};
  };
  static constexpr int kShards = 16;
  struct alignas(64) Shard {
    Mutex mu;
    std::condition_variable_any woken;
  };

  Counter& CounterOf(domid_t domid) const;
  Shard& ShardOf(domid_t domid) { return shards_[domid % kShards]; }

  // Indexed by domid (every domid_t value).
  std::unique_ptr<std::atomic<Counter*>[]> counters_;
  Shard shards_[kShards];
};

}  // namespace argo

#endif  // ARGO_CORE_VIRQ_RECORDER_H_
