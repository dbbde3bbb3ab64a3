#include "argo_core/percpu_rwlock.h"

#include <thread>

namespace argo {
namespace {

// Spins briefly, then yields the CPU: waits here are short (bounded work by
// the holder) but must not starve the holder on a 2-core machine.
class Backoff {
 public:
  void Pause() {
    if (++spins_ < 64) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
      return;
    }
    std::this_thread::yield();
  }

 private:
  int spins_ = 0;
};

std::atomic<int> next_slot{0};

}  // namespace

int PerCpuRwLock::ThisThreadSlot() {
  thread_local const int slot =
      next_slot.fetch_add(1, std::memory_order_relaxed) % kSlots;
  return slot;
}

// Dekker-style handshake, all seq_cst: a reader publishes its count and then
// reads the writer flag; a writer publishes the flag and then reads every
// count. At least one of them sees the other.
void PerCpuRwLock::ReaderLock() {
  Slot& slot = slots_[ThisThreadSlot()];
  for (;;) {
    slot.readers.fetch_add(1, std::memory_order_seq_cst);
    if (!writer_pending_.load(std::memory_order_seq_cst)) return;
    slot.readers.fetch_sub(1, std::memory_order_release);
    Backoff backoff;
    while (writer_pending_.load(std::memory_order_acquire)) backoff.Pause();
  }
}

void PerCpuRwLock::ReaderUnlock() {
  slots_[ThisThreadSlot()].readers.fetch_sub(1, std::memory_order_release);
}

void PerCpuRwLock::WriterLock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  writers_mu_.Lock();
  writer_pending_.store(true, std::memory_order_seq_cst);
  for (Slot& slot : slots_) {
    Backoff backoff;
    while (slot.readers.load(std::memory_order_seq_cst) != 0) backoff.Pause();
  }
}

void PerCpuRwLock::WriterUnlock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  writer_pending_.store(false, std::memory_order_release);
  writers_mu_.Unlock();
}

}  // namespace argo
