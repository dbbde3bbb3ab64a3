// What it measures: one round trip of a cache line between two threads, the
// floor of any cross-CPU notification. Linked last into argo_benchmark so
// it runs last: its spinning partner thread disturbed whichever benchmark
// ran after it.
#include <atomic>
#include <cstdint>
#include <thread>

#include "benchmark/benchmark.h"

namespace argo::bench {
namespace {

void BM_PingPong(benchmark::State& state) {
  alignas(64) std::atomic<uint64_t> line{0};
  std::atomic<bool> stop{false};
  std::thread partner([&] {
    uint64_t expect = 1;
    while (!stop.load(std::memory_order_relaxed)) {
      if (line.load(std::memory_order_acquire) == expect) {
        line.store(expect + 1, std::memory_order_release);
        expect += 2;
      }
    }
  });
  uint64_t value = 0;
  for (auto _ : state) {
    line.store(value + 1, std::memory_order_release);
    while (line.load(std::memory_order_acquire) != value + 2) {
    }
    value += 2;
  }
  stop = true;
  partner.join();
}
BENCHMARK(BM_PingPong)->UseRealTime();

}  // namespace
}  // namespace argo::bench

BENCHMARK_MAIN();
