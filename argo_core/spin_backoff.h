// Bounded busy-waiting: spin with PAUSE briefly, then yield the CPU, so a
// waiter never starves the holder it waits for on a 2-core machine.
#ifndef ARGO_CORE_SPIN_BACKOFF_H_
#define ARGO_CORE_SPIN_BACKOFF_H_

#include <thread>

namespace argo {

class SpinBackoff {
 public:
  void Pause() { PauseAfter(++spins_); }

  // The wait of the `attempt`-th retry, for callers that keep their own
  // count (and want no object on their fast path).
  static void PauseAfter(int attempt) {
    if (attempt < kSpinsBeforeYield) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
      return;
    }
    std::this_thread::yield();
  }

 private:
  static constexpr int kSpinsBeforeYield = 64;
  int spins_ = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_SPIN_BACKOFF_H_
