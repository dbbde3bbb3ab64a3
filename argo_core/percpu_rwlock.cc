#include "argo_core/percpu_rwlock.h"

#include "argo_core/spin_backoff.h"

namespace argo {

namespace internal_percpu_rwlock {
thread_local int cached_slot = -2;
}  // namespace internal_percpu_rwlock

using internal_percpu_rwlock::cached_slot;

namespace {

// Which of the kSlots per-thread slots are taken (bit i = slot i).
std::atomic<uint32_t> taken_slots{0};
static_assert(PerCpuRwLock::kSlots <= 32, "taken_slots is a 32-bit mask");

// Owns the calling thread's slot number and gives it back at thread exit.
class SlotLease {
 public:
  SlotLease() {
    uint32_t taken = taken_slots.load(std::memory_order_relaxed);
    for (;;) {
      if (taken == ~uint32_t{0}) return;  // all taken: share the overflow
      int free = __builtin_ctz(~taken);
      if (taken_slots.compare_exchange_weak(taken, taken | (1u << free),
                                            std::memory_order_relaxed)) {
        slot_ = free;
        return;
      }
    }
  }
  ~SlotLease() {
    // At thread exit. Another thread-local's destructor may still lock
    // after this one (thread-locals die in reverse order of construction):
    // from now on this thread shares the overflow counter, never the slot
    // it gives back, which another thread may lease at once.
    cached_slot = -1;
    if (slot_ >= 0) {
      taken_slots.fetch_and(~(1u << slot_), std::memory_order_release);
    }
  }
  int slot() const { return slot_; }

 private:
  int slot_ = -1;
};

}  // namespace

// The lease (with its exit-time destructor) is made once per thread.
int PerCpuRwLock::ThisThreadSlot() {
  if (__builtin_expect(cached_slot != -2, 1)) return cached_slot;
  thread_local const SlotLease lease;
  cached_slot = lease.slot();
  return cached_slot;
}

// Dekker-style handshake: a reader publishes its presence with a seq_cst
// RMW and then reads the writer flag; a writer publishes the flag (seq_cst)
// and then reads every slot. At least one of them sees the other. Leaving
// is a plain release store: nobody else writes the slot.
void PerCpuRwLock::ReaderLockSlow() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const int slot = ThisThreadSlot();
  for (;;) {
    if (slot >= 0) {
      slots_[slot].held.exchange(1, std::memory_order_seq_cst);
    } else {
      overflow_readers_.fetch_add(1, std::memory_order_seq_cst);
    }
    if (!writer_pending_.load(std::memory_order_seq_cst)) return;
    if (slot >= 0) {
      slots_[slot].held.store(0, std::memory_order_release);
    } else {
      overflow_readers_.fetch_sub(1, std::memory_order_release);
    }
    SpinBackoff backoff;
    while (writer_pending_.load(std::memory_order_acquire)) backoff.Pause();
  }
}

void PerCpuRwLock::Lock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  writers_mu_.Lock();
  writer_pending_.store(true, std::memory_order_seq_cst);
  for (Slot& slot : slots_) {
    SpinBackoff backoff;
    while (slot.held.load(std::memory_order_seq_cst) != 0) backoff.Pause();
  }
  SpinBackoff backoff;
  while (overflow_readers_.load(std::memory_order_seq_cst) != 0) {
    backoff.Pause();
  }
}

void PerCpuRwLock::Unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  writer_pending_.store(false, std::memory_order_release);
  writers_mu_.Unlock();
}

}  // namespace argo
