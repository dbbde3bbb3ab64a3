// What it measures: a 64-byte sendv with a traffic capture running (snap
// length 64, a reader draining the capture between batches, untimed)
// against the same sendv with none: what a capture costs a sender
// (docs/capture.md). The idle tap's cost is in BM_Sendv itself.
#include <memory>
#include <vector>

#include "argo_core/hypervisor.h"
#include "bench/bench_world.h"
#include "benchmark/benchmark.h"
#include "toolstack_api/capture/capture_hub.h"

namespace argo::bench {
namespace {

void BM_SendvCapture(benchmark::State& state) {
  const bool on = state.range(0) != 0;
  CountingNotifier notifier;
  std::unique_ptr<nesting::Level> level =
      MakeLevel(WithoutAccessControl(), &notifier);
  Hypervisor& hv = level->hypervisor();
  toolstack::CaptureHub hub(&hv);
  SendPair pair(&hv, 1, 2, 64, 1);
  pair.Warm();
  std::shared_ptr<toolstack::Capture> capture;
  if (on) {
    toolstack::CaptureFilter filter;
    filter.snap_len = 64;
    auto started = hub.Start(filter, 512 << 10);
    if (!started.ok()) Die(started.status().ToString());
    capture = *started;
  }
  std::vector<toolstack::CapturedMessage> drained;
  uint32_t since_drain = 0;
  for (auto _ : state) {
    if (pair.SendDrainingInBatches() != 64) {
      state.SkipWithError("sendv failed");
      break;
    }
    // Drain well before the queue fills: the figure is the copy into the
    // capture, not the drop path.
    if (on && ++since_drain == 1024) {
      state.PauseTiming();
      drained.clear();
      while (capture->Drain(&drained, 4096) != 0) drained.clear();
      since_drain = 0;
      state.ResumeTiming();
    }
  }
  if (on) {
    state.counters["dropped"] = static_cast<double>(capture->dropped());
    hub.Stop(capture);
  }
  level.reset();
}
BENCHMARK(BM_SendvCapture)->ArgName("on")->Arg(0)->Arg(1);

}  // namespace
}  // namespace argo::bench
