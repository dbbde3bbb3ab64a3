// What it measures: what the extensions cost on the sendv path, next to the
// same 64-byte send without them, in one run:
//  - the implicit-destination step (BM_SendvImplicit) against an explicit
//    send in the same hypervisor (BM_SendvExplicitBeside), with the
//    sender's table holding 10 or 1,000,000 entries;
//  - the access-control check (BM_SendvPolicy): explicit sends with the
//    strict example policy (storage replying to a client: SEND and
//    SEND_EXPLICIT checked, cache warm), and in SILO mode (a service
//    domain to a domU: capabilities looked at too), against the default
//    policy.
//
// What it holds fixed: as bench/sendv_benchmark.cc (64 KiB rings drained in
// batches, counting VIRQ notifier, arguments placed before timing). Every
// pair is warmed before timing.
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "argo_core/hypervisor.h"
#include "bench/bench_world.h"
#include "benchmark/benchmark.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/capabilities.h"
#include "implicit_dest/policy/policy_engine.h"
#include "nesting/level.h"

namespace argo::bench {
namespace {

constexpr uint32_t kPayload = 64;

// A level with the implicit-destination table and no access control (the
// policy's cost is measured apart).
struct ImplicitWorld {
  CountingNotifier notifier;
  std::unique_ptr<nesting::Level> level =
      MakeLevel(WithoutAccessControl(), &notifier);
  Hypervisor& hv = level->hypervisor();
  implicit_dest::ImplicitTable& table = level->table();
  std::mutex mu;
  std::unique_ptr<SendPair> explicit_pair, implicit_10, implicit_1m;

  // An implicit pair whose sender's table holds `entries` entries.
  std::unique_ptr<SendPair> MakeImplicit(domid_t sender, domid_t receiver,
                                         uint32_t entries) {
    auto pair = std::make_unique<SendPair>(&hv, sender, receiver, kPayload, 1,
                                           Addressing::kImplicit);
    const implicit_dest::Endpoint to{receiver, SendPair::kPort};
    if (!table.Connect({sender, SendPair::kSrcPort}, to, false).ok()) {
      Die("connect");
    }
    for (uint32_t port = 1000; port < 1000 + entries - 1; ++port) {
      if (!table.Connect({sender, port}, to, false).ok()) Die("connect");
    }
    pair->Warm();
    return pair;
  }
};

ImplicitWorld& TheImplicitWorld() {
  static ImplicitWorld* world = new ImplicitWorld();
  return *world;
}

void RunSends(benchmark::State& state, SendPair& pair) {
  for (auto _ : state) {
    if (pair.SendDrainingInBatches() != kPayload) {
      state.SkipWithError("sendv failed");
      break;
    }
  }
}

void BM_SendvExplicitBeside(benchmark::State& state) {
  ImplicitWorld& w = TheImplicitWorld();
  {
    std::lock_guard<std::mutex> lock(w.mu);
    if (w.explicit_pair == nullptr) {
      w.explicit_pair = std::make_unique<SendPair>(&w.hv, 1, 2, kPayload, 1);
      w.explicit_pair->Warm();
    }
  }
  RunSends(state, *w.explicit_pair);
}
BENCHMARK(BM_SendvExplicitBeside);

void BM_SendvImplicit(benchmark::State& state) {
  ImplicitWorld& w = TheImplicitWorld();
  const uint32_t entries = static_cast<uint32_t>(state.range(0));
  SendPair* pair;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    auto& slot = entries <= 10 ? w.implicit_10 : w.implicit_1m;
    if (slot == nullptr) {
      slot = entries <= 10 ? w.MakeImplicit(3, 4, entries)
                           : w.MakeImplicit(5, 6, entries);
    }
    pair = slot.get();
  }
  RunSends(state, *pair);
}
BENCHMARK(BM_SendvImplicit)->ArgName("table_entries")->Arg(10)->Arg(1000000);

// Which policy BM_SendvPolicy runs under.
enum PolicyKind : int { kDefault = 0, kStrict = 1, kSilo = 2 };

std::string ShippedPolicyText(const char* path) {
  // bazel run starts in the runfiles tree; the file is a data dependency.
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  if (s.str().empty()) Die(std::string("cannot read ") + path);
  return s.str();
}

// A level whose access control is the policy engine with `kind`'s policy.
struct PolicyWorld {
  CountingNotifier notifier;
  std::unique_ptr<nesting::Level> level;
  std::unique_ptr<SendPair> pair;

  explicit PolicyWorld(PolicyKind kind) {
    nesting::LevelOptions options;
    options.policy_text =
        kind == kStrict ? ShippedPolicyText("implicit_dest/policy/strict.textproto")
        : kind == kSilo ? ShippedPolicyText("implicit_dest/policy/silo.textproto")
                        : std::string(policy::DefaultPolicyText());
    options.policy_name = "bench";
    level = MakeLevel(std::move(options), &notifier);
    policy::PolicyEngine* engine = level->policy();
    if (kind == kStrict) {
      // Storage replying explicitly to a client: SEND and SEND_EXPLICIT.
      if (!engine->Relabel(1, "storage_t").ok() ||
          !engine->Relabel(2, "client_t").ok()) {
        Die("relabel");
      }
    }
    if (kind == kSilo) {
      // A service domain (xenstore) to a domU: SILO looks at both
      // domains' capabilities on every send, then the rules.
      if (!engine->SetCapabilities(1, policy::kCapXenstore).ok()) Die("caps");
    }
    pair = std::make_unique<SendPair>(&level->hypervisor(), 1, 2, kPayload, 1);
    pair->Warm();
  }
};

void BM_SendvPolicy(benchmark::State& state) {
  static std::mutex mu;
  static PolicyWorld* worlds[3] = {};
  const auto kind = static_cast<PolicyKind>(state.range(0));
  PolicyWorld* world;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (worlds[kind] == nullptr) worlds[kind] = new PolicyWorld(kind);
    world = worlds[kind];
  }
  RunSends(state, *world->pair);
}
// strict:2 is SILO mode (the report's silo_over_default_64B).
BENCHMARK(BM_SendvPolicy)->ArgName("strict")->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace argo::bench
