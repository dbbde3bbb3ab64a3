#include "argo_core/virq_recorder.h"

#include <chrono>

namespace argo {
namespace {

constexpr size_t kDomids = size_t{1} << (8 * sizeof(domid_t));

}  // namespace

VirqRecorder::VirqRecorder()
    : counters_(new std::atomic<Counter*>[kDomids]()) {}

VirqRecorder::~VirqRecorder() {
  for (size_t d = 0; d < kDomids; ++d) {
    delete counters_[d].load(std::memory_order_relaxed);
  }
}

VirqRecorder::Counter& VirqRecorder::CounterOf(domid_t domid) const {
  std::atomic<Counter*>& slot = counters_[domid];
  Counter* c = slot.load(std::memory_order_acquire);
  if (__builtin_expect(c != nullptr, 1)) return *c;
  auto* fresh = new Counter();
  if (slot.compare_exchange_strong(c, fresh, std::memory_order_acq_rel)) {
    return *fresh;
  }
  delete fresh;  // another thread made it first: c is theirs
  return *c;
}

void VirqRecorder::RaiseVirq(domid_t domid) {
  Counter& c = CounterOf(domid);
  // seq_cst pairs with WaitBeyond's: either the waiter's predicate sees
  // this raise, or this sees the waiter and wakes it.
  c.raised.fetch_add(1, std::memory_order_seq_cst);
  if (c.waiters.load(std::memory_order_seq_cst) == 0) return;
  Shard& s = ShardOf(domid);
  // Taken and dropped so a waiter between its check and its sleep (it
  // holds the lock there) is asleep before the notify.
  { MutexLock l(&s.mu); }
  s.woken.notify_all();
}

uint64_t VirqRecorder::Count(domid_t domid) const {
  return CounterOf(domid).raised.load(std::memory_order_acquire);
}

uint64_t VirqRecorder::WaitBeyond(domid_t domid, uint64_t seen,
                                  absl::Duration timeout) {
  Counter& c = CounterOf(domid);
  Shard& s = ShardOf(domid);
  MutexLock l(&s.mu);
  c.waiters.fetch_add(1, std::memory_order_seq_cst);
  // condition_variable_any releases and retakes the lock around the wait.
  s.woken.wait_for(s.mu, absl::ToChronoNanoseconds(timeout), [&] {
    return c.raised.load(std::memory_order_seq_cst) > seen;
  });
  c.waiters.fetch_sub(1, std::memory_order_relaxed);
  return c.raised.load(std::memory_order_acquire);
}

}  // namespace argo
