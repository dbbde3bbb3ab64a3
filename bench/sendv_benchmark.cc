// What it measures: the in-process cost of Argo's data path — argo_op(sendv)
// for payloads 16 B .. 1 MiB in 1 and 8 iovs, notify (NULL and one query),
// and aggregate sendv throughput with 1 and 2 sender threads on disjoint
// rings — next to the baselines the report divides by, all in one run:
// inline CPUID (the cheapest trap to a hypervisor), memcpy of the same
// bytes, and a two-thread cache-line ping-pong.
//
// What it holds fixed: the receiver drains the ring in one batch (rx = tx)
// whenever the next message would not fit, so sends never see EAGAIN: with
// small payloads that is once per ring-full (a 64 KiB ring), with payloads
// that fill their ring it is before every send. (Draining after every
// small send on the same core would time a store-forwarding stall between
// the receiver's and the hypervisor's mappings of the ring header, which a
// receiver on another core never causes.) The VIRQ goes to a counting
// notifier; sendv arguments sit in the sender's memory before the clock
// starts.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "argo_core/hypervisor.h"
#include "bench/bench_world.h"
#include "benchmark/benchmark.h"

namespace argo::bench {
namespace {

// ---- Baselines
// ---------------------------------------------------------------

inline void Cpuid() {
  uint32_t a = 0, b, c = 0, d;
  asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  benchmark::DoNotOptimize(b);
  benchmark::DoNotOptimize(d);
}

void BM_Cpuid(benchmark::State& state) {
  for (auto _ : state) Cpuid();
}
BENCHMARK(BM_Cpuid);

void BM_Memcpy(benchmark::State& state) {
  const size_t n = state.range(0);
  std::vector<uint8_t> src(n, 1), dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n);
}
BENCHMARK(BM_Memcpy)
    ->ArgName("payload_bytes")
    ->RangeMultiplier(4)
    ->Range(16, 1 << 20);

// ---- sendv ---------------------------------------------------------------

// One level (no access control: the core's own figures) per benchmark
// binary; pairs are made on first use.
struct World {
  CountingNotifier notifier;
  std::unique_ptr<nesting::Level> level =
      MakeLevel(WithoutAccessControl(), &notifier);
  Hypervisor& hv = level->hypervisor();
  std::mutex mu;
  std::map<std::tuple<uint32_t, uint32_t, int>, std::unique_ptr<SendPair>>
      pairs;
  domid_t next_domid = 1;

  SendPair& Pair(uint32_t payload, uint32_t niov, int thread) {
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = pairs[{payload, niov, thread}];
    if (slot == nullptr) {
      domid_t sender = next_domid++;
      domid_t receiver = next_domid++;
      slot = std::make_unique<SendPair>(&hv, sender, receiver, payload, niov);
      slot->Warm();
    }
    return *slot;
  }
};

World& TheWorld() {
  static World* world = new World();
  return *world;
}

void BM_Sendv(benchmark::State& state) {
  const uint32_t payload = state.range(0);
  const uint32_t niov = state.range(1);
  SendPair& pair = TheWorld().Pair(payload, niov, 0);
  for (auto _ : state) {
    if (pair.SendDrainingInBatches() != payload) {
      state.SkipWithError("sendv failed");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * payload);
}
BENCHMARK(BM_Sendv)
    ->ArgNames({"payload_bytes", "iovs"})
    ->ArgsProduct({benchmark::CreateRange(16, 1 << 20, 4), {1, 8}});

void BM_Notify_Null(benchmark::State& state) {
  SendPair& pair = TheWorld().Pair(64, 1, 0);
  for (auto _ : state) benchmark::DoNotOptimize(pair.NotifyNull());
}
BENCHMARK(BM_Notify_Null);

void BM_Notify_OneQuery(benchmark::State& state) {
  SendPair& pair = TheWorld().Pair(64, 1, 0);
  for (auto _ : state) benchmark::DoNotOptimize(pair.NotifyQuery());
}
BENCHMARK(BM_Notify_OneQuery);

// Aggregate 64-byte sendv throughput: each thread its own sender, receiver
// and ring (disjoint rings).
void BM_SendvThroughput(benchmark::State& state) {
  SendPair& pair = TheWorld().Pair(64, 1, state.thread_index() + 1);
  for (auto _ : state) {
    if (pair.SendDrainingInBatches() != 64) {
      state.SkipWithError("sendv failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SendvThroughput)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace argo::bench
