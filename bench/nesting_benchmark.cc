// What it measures: nesting's cost per message (DESIGN §7, §9), against a
// single-level implicit send measured in the same run:
//
//   BM_NestSendv/payload_bytes:N   baseline: an L0 guest's implicit send to
//                                  another L0 guest's ring, and that guest
//                                  reading it
//   BM_NestUp/payload_bytes:N      an L2 guest's implicit send cabled up
//                                  L2 -> L1 -> L0 to an L0 guest's ring
//                                  (synchronous forwarding), and that L0
//                                  guest reading it
//   BM_NestDown/payload_bytes:N    an L0 guest's implicit send cabled down
//                                  to an L2 guest: the send into L1's
//                                  receive buffer, L1's link draining it
//                                  into L2's buffer, L2's link draining it
//                                  into the guest's ring, the guest reading
//   BM_NestPercpuDrain/cpus:C      downward throughput of a level with C
//                                  receive buffers drained by C threads
//
// The Up/Down/Sendv iterations run with the drainers inline (threads =
// false; Pump() on this thread): they are the per-message CPU cost on one
// thread. The thread wake-ups a threaded drainer adds are not in them; the
// xproc figures (bench/xproc_benchmark.cc) measure wake-ups.
//
// BM_NestPercpuDrain: 64 L0 guests (distinct flows: source domain,
// port) each send kPerFlow 64-byte messages to their own port of L1's
// domain, which L1 cables to 64 L1 guests' rings. The parent spreads
// the flows over L1's C buffers by flow hash. Untimed: the buffers are
// filled and the guests' rings emptied. Timed (wall clock): C threads, one
// per buffer, each draining its own buffer as its drainer would
// (ParentLink::PumpBuffer) until all of them are delivered.
// items_per_second is messages delivered; C = 4 against C = 1 shows
// whether per-buffer drainers serialise (on a 2-core machine the ceiling
// is 2).
//
// What it holds fixed: every payload is laid out before timing; 64 KiB
// guest rings read every iteration (never full); the levels' receive
// buffers 128 KiB (Up/Down) or 4 MiB (per-CPU, with 256 KiB guest rings,
// emptied untimed); the default policy at every level.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "bench/bench_world.h"
#include "benchmark/benchmark.h"
#include "guest/guest.h"
#include "nesting/stack.h"

namespace argo::bench {
namespace {

// Domains (each level names only its own).
constexpr domid_t kL1 = 10;       // L1's domain at L0
constexpr domid_t kL2 = 20;       // L2's domain at L1
constexpr domid_t kTop = 1;       // at L0: the far end of Up and Down
constexpr domid_t kBaseFrom = 2;  // at L0: the baseline's sender
constexpr domid_t kBaseTo = 3;    // at L0: the baseline's receiver
constexpr domid_t kBottom = 1;    // at L2
constexpr uint32_t kType = 9;
constexpr uint32_t kRingBytes = 64 * 1024;

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

template <typename T>
T Take(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(std::string(what) + ": " + v.status().ToString());
  return *std::move(v);
}

// L0 <- L1 <- L2, inline drainers, cabled both ways:
//   L2: bottom:100 <-> parent:7;  L1: l2:7 <-> parent:8;
//   L0: l1:8 <-> top:50;  and the baseline at L0: from:60 <-> to:61.
struct NestWorld {
  std::unique_ptr<nesting::Stack> stack;
  nesting::Stack::Node* l1 = nullptr;
  nesting::Stack::Node* l2 = nullptr;
  std::unique_ptr<guest::Guest> top, bottom, base_from, base_to;
  GuestRing* top_ring = nullptr;
  GuestRing* bottom_ring = nullptr;
  GuestRing* base_ring = nullptr;

  NestWorld() {
    stack = Take(nesting::Stack::Create(), "stack");
    nesting::ChildLevelOptions options;
    options.threads = false;
    l1 = Take(stack->AddLevel(stack->root(), "l1", kL1, options), "l1");
    l2 = Take(stack->AddLevel(*l1, "l2", kL2, options), "l2");
    nesting::Stack::Node& l0 = stack->root();
    for (domid_t d : {kTop, kBaseFrom, kBaseTo}) {
      Check(stack->AddDomain(l0, d), "domain");
    }
    Check(stack->AddDomain(*l2, kBottom), "domain");
    Check(l2->level->table().Connect({kBottom, 100}, {ARGO_DOMID_PARENT, 7},
                                     true),
          "cable");
    Check(l1->level->table().Connect({kL2, 7}, {ARGO_DOMID_PARENT, 8}, true),
          "cable");
    Check(l0.level->table().Connect({kL1, 8}, {kTop, 50}, true), "cable");
    Check(l0.level->table().Connect({kBaseFrom, 60}, {kBaseTo, 61}, true),
          "cable");
    top = Take(stack->GuestAt(l0, kTop), "guest");
    bottom = Take(stack->GuestAt(*l2, kBottom), "guest");
    base_from = Take(stack->GuestAt(l0, kBaseFrom), "guest");
    base_to = Take(stack->GuestAt(l0, kBaseTo), "guest");
    top_ring = Take(top->RegisterRing(50, XEN_ARGO_DOMID_ANY, kRingBytes),
                    "ring");
    bottom_ring = Take(
        bottom->RegisterRing(100, XEN_ARGO_DOMID_ANY, kRingBytes), "ring");
    base_ring = Take(base_to->RegisterRing(61, XEN_ARGO_DOMID_ANY, kRingBytes),
                     "ring");
  }
};

NestWorld& TheNestWorld() {
  static NestWorld* world = new NestWorld();
  return *world;
}

// One message read off `ring`; false if there was none.
bool ReadOne(GuestRing* ring) {
  auto m = ring->Read();
  if (!m.ok() || !m->has_value()) return false;
  benchmark::DoNotOptimize((*m)->payload.data());
  return true;
}

// Runs `send_and_read` (send, move, read; false on any failure) per
// iteration, after a pass that warms every ring.
template <typename F>
void RunNested(benchmark::State& state, F send_and_read) {
  static std::mutex mu;  // one world, benchmarks run one at a time
  std::lock_guard<std::mutex> lock(mu);
  const uint32_t payload = static_cast<uint32_t>(state.range(0));
  const std::vector<uint8_t> data(payload, 0x5a);
  for (uint32_t i = 0; i < 2 * kRingBytes / payload + 16; ++i) {
    if (!send_and_read(data)) {
      state.SkipWithError("warm-up send or read failed");
      return;
    }
  }
  for (auto _ : state) {
    if (!send_and_read(data)) {
      state.SkipWithError("send or read failed");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * payload);
}

void BM_NestSendv(benchmark::State& state) {
  NestWorld& w = TheNestWorld();
  RunNested(state, [&w](const std::vector<uint8_t>& data) {
    return w.base_from->SendImplicit(60, data, kType).ok() &&
           ReadOne(w.base_ring);
  });
}
BENCHMARK(BM_NestSendv)->ArgName("payload_bytes")->Arg(64)->Arg(4096);

void BM_NestUp(benchmark::State& state) {
  NestWorld& w = TheNestWorld();
  RunNested(state, [&w](const std::vector<uint8_t>& data) {
    return w.bottom->SendImplicit(100, data, kType).ok() &&
           ReadOne(w.top_ring);
  });
}
BENCHMARK(BM_NestUp)->ArgName("payload_bytes")->Arg(64)->Arg(4096);

void BM_NestDown(benchmark::State& state) {
  NestWorld& w = TheNestWorld();
  RunNested(state, [&w](const std::vector<uint8_t>& data) {
    if (!w.top->SendImplicit(50, data, kType).ok()) return false;
    // Parent first: L1 places it in L2's buffer, L2 in the guest's ring.
    w.l1->link->Pump();
    w.l2->link->Pump();
    return ReadOne(w.bottom_ring);
  });
}
BENCHMARK(BM_NestDown)->ArgName("payload_bytes")->Arg(64)->Arg(4096);

// 64 flows: enough that the flow hash spreads them evenly over 4 buffers
// (13, 14, 18 and 19 of them; with 16 it was 1, 4, 4 and 7, and the
// figure measured the hash's luck, not the drainers).
constexpr int kFlows = 64;
constexpr int kPerFlow = 256;  // 16,384 messages: thread start-up is noise
constexpr uint32_t kDrainRingBytes = 256 * 1024;  // a flow's whole batch
constexpr domid_t kFirstSender = 30;  // L0 senders 30..93
constexpr domid_t kFirstReceiver = 1;  // L1 guests 1..64

// L1 with `cpus` buffers under L0; flow i: L0 guest kFirstSender+i's port
// 50 -> L1's port 200+i -> L1 guest kFirstReceiver+i's ring on 300.
struct PercpuWorld {
  std::unique_ptr<nesting::Stack> stack;
  nesting::Stack::Node* l1 = nullptr;
  std::vector<std::unique_ptr<guest::Guest>> senders, receivers;
  std::vector<GuestRing*> rings;

  explicit PercpuWorld(uint32_t cpus) {
    stack = Take(nesting::Stack::Create(), "stack");
    nesting::ChildLevelOptions options;
    options.threads = false;
    options.cpus = cpus;
    options.buffer_bytes = 4 << 20;  // one buffer holds a whole batch
    l1 = Take(stack->AddLevel(stack->root(), "l1", kL1, options), "l1");
    nesting::Stack::Node& l0 = stack->root();
    for (int i = 0; i < kFlows; ++i) {
      const domid_t from = kFirstSender + i;
      const domid_t to = kFirstReceiver + i;
      const xen_argo_port_t port = 200 + i;
      Check(stack->AddDomain(l0, from), "domain");
      Check(stack->AddDomain(*l1, to), "domain");
      Check(l0.level->table().Connect({from, 50}, {kL1, port}, false),
            "cable");
      Check(l1->level->table().Connect({ARGO_DOMID_PARENT, port}, {to, 300},
                                       false),
            "cable");
      senders.push_back(Take(stack->GuestAt(l0, from), "guest"));
      receivers.push_back(Take(stack->GuestAt(*l1, to), "guest"));
      rings.push_back(Take(receivers.back()->RegisterRing(
                               300, XEN_ARGO_DOMID_ANY, kDrainRingBytes),
                           "ring"));
    }
  }

  // Every flow's batch into L1's buffers; false on any failure.
  bool Fill(const std::vector<uint8_t>& data) {
    for (int n = 0; n < kPerFlow; ++n) {
      for (auto& s : senders) {
        if (!s->SendImplicit(50, data, kType).ok()) return false;
      }
    }
    return true;
  }
  // The receivers consume everything (rx = tx).
  void EmptyRings() {
    for (GuestRing* r : rings) {
      const uint32_t tx = std::atomic_ref<uint32_t>(r->header()->tx_ptr)
                              .load(std::memory_order_acquire);
      std::atomic_ref<uint32_t>(r->header()->rx_ptr)
          .store(tx, std::memory_order_release);
    }
  }
};

void BM_NestPercpuDrain(benchmark::State& state) {
  const uint32_t cpus = static_cast<uint32_t>(state.range(0));
  static std::mutex mu;
  static PercpuWorld* worlds[5] = {};
  PercpuWorld* w;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (worlds[cpus] == nullptr) worlds[cpus] = new PercpuWorld(cpus);
    w = worlds[cpus];
  }
  const std::vector<uint8_t> data(64, 0x5a);
  constexpr size_t kBatch = size_t{kFlows} * kPerFlow;
  for (auto _ : state) {
    w->EmptyRings();
    if (!w->Fill(data)) {
      state.SkipWithError("fill failed");
      break;
    }
    std::atomic<size_t> delivered{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> drainers;
    for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
      drainers.emplace_back([w, cpu, &delivered] {
        delivered.fetch_add(w->l1->link->PumpBuffer(cpu),
                            std::memory_order_relaxed);
      });
    }
    for (auto& t : drainers) t.join();
    const auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    if (delivered.load() != kBatch) {
      state.SkipWithError("not every message was delivered");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_NestPercpuDrain)
    ->ArgName("cpus")
    ->Arg(1)
    ->Arg(4)
    ->UseManualTime();

}  // namespace
}  // namespace argo::bench
