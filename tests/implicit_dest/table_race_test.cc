// The implicit-destination table under races (issue 8, C.3 and C.4):
// - array growth and erasure racing Resolve (the seqlock and the acquire
//   load of the array pointer, item B);
// - growth and the grower's destroy + re-create racing implicit sends
//   from that domain and to it;
// - Connect racing the destroy + re-create of either end.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "argo_core/public/argo.h"
#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"
#include "implicit_dest/implicit_table.h"
#include "tests/testing/implicit_world.h"
#include "tests/testing/race_support.h"
#include "tests/testing/raw_guest.h"

namespace argo::testing {
namespace {

using implicit_dest::Endpoint;

constexpr DomainConfig kSmall{512, true};
constexpr uint32_t kRingLen = 64 * 1024;

uint32_t GenerationOf(ImplicitWorld& world, domid_t d) {
  absl::StatusOr<uint32_t> g = world.hv->DomainGeneration(d);
  return g.ok() ? *g : 0;
}

// A small deterministic generator, one per thread.
struct Lcg {
  uint32_t state;
  uint32_t Next(uint32_t bound) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % bound;
  }
};

// ---- Growth and erasure under Resolve ----

// Source domains are cabled one after the other, each from nothing to 1024
// ports (its array is replaced 8 times) and then stripped of its odd
// ports, while two threads resolve. A port already cabled must be found,
// with the right destination, every time; a port never cabled never; a
// port being disconnected is found intact or refused, nothing else. Many
// small sources make many freshly published arrays for the readers to
// meet (under TSan, a relaxed load of the array pointer is reported here).
// Nothing is destroyed, so no array is freed and Resolve may be called
// outside a hypercall.
TEST(TableRaceTest, GrowthAndEraseUnderResolveNeverMisreadAnEntry) {
  constexpr int kSources = 8;
  constexpr domid_t kFirstSource = 10, kDest = 2;
  constexpr uint32_t kPorts = 1024;
  constexpr xen_argo_port_t kDestPortBase = 100000;
  ImplicitWorld world;
  world.AddDomain(kDest);
  const uint32_t dest_gen = GenerationOf(world, kDest);
  uint32_t source_gen[kSources];
  for (int i = 0; i < kSources; ++i) {
    world.AddDomain(kFirstSource + i);
    source_gen[i] = GenerationOf(world, kFirstSource + i);
  }

  // What the toolstack has done, in one word so readers see it whole:
  // source index << 33 | erasing << 32 | ports cabled (1..n) so far.
  std::atomic<uint64_t> progress{0};
  auto publish = [&](int source, bool erasing, uint32_t cabled) {
    progress.store(uint64_t(source) << 33 | uint64_t{erasing} << 32 | cabled,
                   std::memory_order_release);
  };
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> wrong{0}, resolves{0};
  std::mutex first_wrong_mu;
  std::string first_wrong;  // the first misread, for the failure message
  auto misread = [&](int source, xen_argo_port_t port,
                     const ImplicitDestination& d) {
    if (wrong.fetch_add(1) != 0) return;
    std::lock_guard<std::mutex> l(first_wrong_mu);
    first_wrong = absl::StrCat("source ", kFirstSource + source, " port ", port,
                               ": rc ", d.rc, ", dom", d.domid, ":", d.port,
                               " generation ", d.domain_generation);
  };
  auto resolver = [&](uint32_t seed) {
    Lcg rng{seed};
    uint64_t n = 0;
    while (!stop.load()) {
      const uint64_t p = progress.load(std::memory_order_acquire);
      const int current = static_cast<int>(p >> 33);
      // Mostly the source being cabled; now and then a finished one.
      const int source = rng.Next(4) != 0 ? current : rng.Next(current + 1);
      const uint32_t cabled =
          source == current ? static_cast<uint32_t>(p) : kPorts;
      if (cabled == 0) {
        std::this_thread::yield();
        continue;
      }
      const domid_t src = kFirstSource + source;
      const xen_argo_port_t port = 1 + rng.Next(cabled);
      const ImplicitDestination d =
          world.table.Resolve(src, source_gen[source], port);
      const bool right = d.rc == 0 && d.domid == kDest &&
                         d.port == kDestPortBase + port &&
                         d.domain_generation == dest_gen;
      // Odd ports may be gone if their source's erasing had begun by the
      // time Resolve returned (read after it: the reader may have slept
      // since it chose the port).
      const uint64_t after = progress.load(std::memory_order_acquire);
      const int current_after = static_cast<int>(after >> 33);
      const bool erasing = source < current_after || ((after >> 32) & 1) != 0;
      const bool may_be_gone = port % 2 == 1 && erasing;
      if (!right && !(may_be_gone && d.rc == -XEN_ECONNREFUSED)) {
        misread(source, port, d);
      }
      // A port never cabled is never found.
      const ImplicitDestination never =
          world.table.Resolve(src, source_gen[source], kPorts + port);
      if (never.rc != -XEN_ECONNREFUSED) misread(source, kPorts + port, never);
      ++n;
    }
    resolves.fetch_add(n);
  };
  StoppingThread r1(&stop, [&] { resolver(1); });
  StoppingThread r2(&stop, [&] { resolver(2); });
  for (int i = 0; i < kSources; ++i) {
    const domid_t src = kFirstSource + i;
    for (uint32_t port = 1; port <= kPorts; ++port) {
      ASSERT_TRUE(
          world.table.Connect({src, port}, {kDest, kDestPortBase + port}, false)
              .ok());
      publish(i, false, port);
      if (port % 32 == 0) std::this_thread::yield();  // let the readers in
    }
    publish(i, true, kPorts);
    for (uint32_t port = 1; port <= kPorts; port += 2) {
      ASSERT_TRUE(world.table.Disconnect({src, port}, false).ok());
      if (port % 64 == 1) std::this_thread::yield();
    }
  }
  r1.Join();
  r2.Join();
  EXPECT_EQ(wrong.load(), 0u) << "first: " << first_wrong;
  EXPECT_EQ(world.table.size(), kSources * kPorts / 2);
  RecordProperty("resolves", static_cast<int>(resolves.load()));
}

// ---- Growth and destroy under implicit sends ----

// Domain G is cycled through incarnations. In each, the toolstack cables
// T:1 -> G:900 and then G's ports 1..kPorts -> R:1000 one by one (the
// array grows 6 times), and destroys G while G sends implicitly from random
// ports and T sends implicitly into G.
//
// - G's sends: a port cabled (in G's live incarnation, before the send)
//   always delivers or finds R's ring full; a port never cabled is
//   refused; and every delivered message is in R's ring, intact, once.
// - T's sends: every delivered message is in the ring of a G incarnation
//   that was alive during the send and whose cable had been started
//   before it returned (so no cable made for an earlier G reached it).
class GrowthAndDestroyTest : public ::testing::Test {
 protected:
  static constexpr domid_t kGrower = 2, kReceiver = 3, kFeeder = 4;
  static constexpr uint32_t kPorts = 256;
  static constexpr xen_argo_port_t kReceiverPort = 1000, kGrowerPort = 900;
  static constexpr xen_argo_port_t kFeederPort = 1;
  static constexpr uint32_t kGrowerRingLen = 16 * 1024;
  // Sized for a few seconds under TSan on 2 shared cores.
  static constexpr int kIncarnations = 40;

  struct GrowerSend {
    int64_t rc;
    xen_argo_port_t port;
  };
  struct FeederSend {
    int64_t rc;
    uint32_t ended_before;
    uint32_t begun_after;
    uint32_t cabling_after;  // G incarnations whose cabling had begun
  };

  ImplicitWorld world_;
  Lifecycle grower_{world_.hv.get(), kGrower, kSmall};
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> cabled_{0};   // ports of the live G cabled so far
  std::atomic<uint32_t> cabling_{0};  // the G incarnation being cabled
  Pacer grower_pacer_{32}, feeder_pacer_{32};
};

TEST_F(GrowthAndDestroyTest, ImplicitSendsFromAndToAGrowingDyingDomain) {
  world_.AddDomain(kReceiver);
  world_.AddDomain(kFeeder);
  RawGuest receiver = world_.Guest(kReceiver);
  const std::vector<uint64_t> frames = RawGuest::Frames(kRingLen);
  ASSERT_EQ(
      receiver.Register(kReceiverPort, XEN_ARGO_DOMID_ANY, kRingLen, frames),
      0);
  RingView receiver_ring = receiver.View(frames, kRingLen);

  const std::vector<uint64_t> grower_frames = RawGuest::Frames(kGrowerRingLen);
  std::vector<GrowerSend> grower_sent;
  StoppingThread grower_guest(&stop_, [&] {
    Pacer::GuestScope scope(&grower_pacer_);
    Lcg rng{7};
    uint32_t seq = 0;
    while (!stop_.load()) {
      absl::optional<Lifecycle::Attached> self = grower_.Attach();
      if (!self.has_value()) {
        std::this_thread::yield();
        continue;
      }
      // As a guest would at boot: the ring T's messages arrive in.
      const int64_t registered = self->guest.Register(
          kGrowerPort, XEN_ARGO_DOMID_ANY, kGrowerRingLen, grower_frames);
      ASSERT_TRUE(registered == 0 || !grower_.StillLive(self->incarnation))
          << "register_ring returned " << registered;
      for (bool live = true; live && !stop_.load(); ++seq) {
        grower_pacer_.Pace(stop_);
        // Ports past kPorts are never cabled.
        const xen_argo_port_t port = 1 + rng.Next(kPorts + 16);
        const uint32_t cabled = cabled_.load();
        const int64_t rc = ImplicitWorld::SendImplicit(self->guest, port,
                                                       SeqPayload(seq), seq);
        live = grower_.StillLive(self->incarnation);
        const bool delivered = rc == SeqPayloadSize(seq);
        if (live && port <= cabled) {
          // The cable and R's ring existed throughout.
          ASSERT_TRUE(delivered || rc == -XEN_EAGAIN)
              << "port " << port << " cabled, sendv returned " << rc;
        } else if (live && port > kPorts) {
          ASSERT_EQ(rc, -XEN_ECONNREFUSED) << "port " << port;
        } else {
          // Not cabled yet, or (if the call ran past this incarnation)
          // no sender (ESRCH) or the next one's empty memory (EPERM).
          ASSERT_TRUE(delivered ||
                      IsOneOf(rc, {XEN_ECONNREFUSED, XEN_EAGAIN}) ||
                      (!live && IsOneOf(rc, {XEN_ESRCH, XEN_EPERM})))
              << "port " << port << ": sendv returned " << rc;
        }
        grower_sent.push_back({rc, port});
        grower_pacer_.CallDone();
      }
    }
  });

  std::vector<FeederSend> feeder_sent;
  StoppingThread feeder_guest(&stop_, [&] {
    Pacer::GuestScope scope(&feeder_pacer_);
    RawGuest feeder = world_.Guest(kFeeder);
    for (uint32_t seq = 0; !stop_.load(); ++seq) {
      feeder_pacer_.Pace(stop_);
      FeederSend s;
      s.ended_before = grower_.ended();
      s.rc = ImplicitWorld::SendImplicit(feeder, kFeederPort, SeqPayload(seq),
                                         seq);
      s.begun_after = grower_.begun();
      s.cabling_after = cabling_.load();
      // No cable, no G, or no ring yet: ECONNREFUSED alike (§4).
      ASSERT_TRUE(s.rc == SeqPayloadSize(seq) ||
                  IsOneOf(s.rc, {XEN_ECONNREFUSED, XEN_EAGAIN}))
          << "sendv " << seq << " returned " << s.rc;
      feeder_sent.push_back(s);
      feeder_pacer_.CallDone();
    }
  });

  struct Arrivals {
    std::vector<ReceivedMessage> messages;
    uint32_t incarnation;
  };
  std::vector<Arrivals> at_grower;
  std::vector<ReceivedMessage> at_receiver;
  for (int i = 0; i < kIncarnations; ++i) {
    grower_pacer_.Allow();
    feeder_pacer_.Allow();
    const uint32_t k = grower_.Create();
    // G registers its ring itself (below, on attaching): the toolstack
    // writing G's memory too would race G's own calls. Mapping the frames
    // writes nothing.
    RingView grower_ring =
        world_.Guest(kGrower).View(grower_frames, kGrowerRingLen);
    cabling_.store(k);
    // The previous G's cable went with it: this succeeds.
    ASSERT_TRUE(
        world_.table
            .Connect({kFeeder, kFeederPort}, {kGrower, kGrowerPort}, false)
            .ok());
    for (uint32_t port = 1; port <= kPorts; ++port) {
      ASSERT_TRUE(
          world_.table
              .Connect({kGrower, port}, {kReceiver, kReceiverPort}, false)
              .ok())
          << "incarnation " << k << " port " << port;
      cabled_.store(port);
      if (port % 16 == 0) {
        grower_pacer_.Allow();
        feeder_pacer_.Allow();
        std::this_thread::yield();
      }
    }
    grower_pacer_.AwaitCalls(4);
    grower_pacer_.Allow();
    feeder_pacer_.Allow();
    // Cleared before the destroy begins: a guest that read a count and
    // still finds its incarnation live after the send used live cables.
    cabled_.store(0);
    grower_.Destroy();
    at_grower.push_back({{}, k});
    ASSERT_TRUE(Drain(*grower_ring.reader, &at_grower.back().messages));
    ASSERT_TRUE(Drain(*receiver_ring.reader, &at_receiver));
    // Whatever the destroy raced, no entry from or to G survives it.
    EXPECT_EQ(world_.table.size(), 0u) << "incarnation " << k;
  }
  grower_guest.Join();
  feeder_guest.Join();
  ASSERT_TRUE(Drain(*receiver_ring.reader, &at_receiver));

  // G's messages at R.
  std::vector<bool> found(grower_sent.size(), false);
  for (const ReceivedMessage& m : at_receiver) {
    absl::optional<uint32_t> seq = SeqOf(m.payload);
    ASSERT_TRUE(seq.has_value()) << "a torn message at R";
    ASSERT_LT(*seq, grower_sent.size());
    EXPECT_EQ(grower_sent[*seq].rc, static_cast<int64_t>(m.payload.size()));
    EXPECT_EQ(m.source.domain_id, kGrower);
    EXPECT_EQ(m.source.aport, grower_sent[*seq].port);
    EXPECT_FALSE(found[*seq]) << "twice: " << *seq;
    found[*seq] = true;
  }
  uint64_t grower_delivered = 0;
  for (uint32_t seq = 0; seq < grower_sent.size(); ++seq) {
    const bool ok = grower_sent[seq].rc == SeqPayloadSize(seq);
    grower_delivered += ok;
    EXPECT_EQ(found[seq], ok) << "G's message " << seq;
  }
  // T's messages at each G.
  std::vector<bool> found_at_g(feeder_sent.size(), false);
  for (const Arrivals& a : at_grower) {
    for (const ReceivedMessage& m : a.messages) {
      absl::optional<uint32_t> seq = SeqOf(m.payload);
      ASSERT_TRUE(seq.has_value()) << "a torn message at G";
      ASSERT_LT(*seq, feeder_sent.size());
      const FeederSend& s = feeder_sent[*seq];
      EXPECT_EQ(s.rc, static_cast<int64_t>(m.payload.size()));
      EXPECT_EQ(m.source.domain_id, kFeeder);
      EXPECT_TRUE(s.ended_before < a.incarnation &&
                  a.incarnation <= s.begun_after)
          << "T's message " << *seq << " reached G#" << a.incarnation
          << ", not alive during the send";
      EXPECT_GE(s.cabling_after, a.incarnation)
          << "T's message " << *seq << " reached G#" << a.incarnation
          << " before its cable was made";
      EXPECT_FALSE(found_at_g[*seq]) << "twice: " << *seq;
      found_at_g[*seq] = true;
    }
  }
  uint64_t feeder_delivered = 0;
  for (uint32_t seq = 0; seq < feeder_sent.size(); ++seq) {
    const bool ok = feeder_sent[seq].rc == SeqPayloadSize(seq);
    feeder_delivered += ok;
    EXPECT_EQ(found_at_g[seq], ok) << "T's message " << seq;
  }
  EXPECT_GT(grower_delivered, 0u);
  EXPECT_GT(feeder_delivered, 0u);
  RecordProperty("grower_sends", static_cast<int>(grower_sent.size()));
  RecordProperty("grower_delivered", static_cast<int>(grower_delivered));
  RecordProperty("feeder_sends", static_cast<int>(feeder_sent.size()));
  RecordProperty("feeder_delivered", static_cast<int>(feeder_delivered));
}

// ---- Connect racing destroy + re-create ----

// Each round, three threads start together: one connects A:7 <-> B:80, one
// destroys A or B (alternately), one re-creates that domid as soon as it
// can (so even while the destroy is still dropping the old domain's
// cables). Afterwards, whatever the interleaving:
// - a cable the table shows leads to the live domains: Resolve returns
//   the destination's current generation, and an implicit send through it
//   lands in the re-created domain's ring;
// - a cable made for the destroyed domain is gone: no entry the table
//   counts is invisible to it, and the old generation resolves nothing.
TEST(TableRaceTest, ConnectRacingDestroyOfEitherEndLeavesNoDeadCable) {
  constexpr domid_t kA = 1, kB = 2;
  constexpr xen_argo_port_t kPortA = 7, kPortB = 80;
  // Sized for a few seconds under TSan on 2 shared cores.
  constexpr int kRounds = 600;
  const Endpoint a{kA, kPortA}, b{kB, kPortB};
  ImplicitWorld world;
  world.AddDomain(kA);
  world.AddDomain(kB);
  const std::vector<uint64_t> frames = RawGuest::Frames(kRingLen);
  for (domid_t d : {kA, kB}) {
    ASSERT_EQ(world.Guest(d).Register(d == kA ? kPortA : kPortB,
                                      XEN_ARGO_DOMID_ANY, kRingLen, frames),
              0);
  }

  // Round r starts when round_ becomes r + 1; each thread then bumps done_.
  std::atomic<int> round{0}, done{0};
  std::atomic<bool> stop{false};
  std::vector<absl::Status> connected(kRounds);
  auto domid_for = [](int r) { return r % 2 == 0 ? kA : kB; };
  auto worker = [&](auto&& step) {
    return [&, step] {
      for (int r = 0; r < kRounds; ++r) {
        while (round.load() <= r) {
          if (stop.load()) return;
          std::this_thread::yield();
        }
        step(r);
        done.fetch_add(1);
      }
    };
  };
  StoppingThread connector(&stop, worker([&](int r) {
    connected[r] = world.table.Connect(a, b, true);
  }));
  StoppingThread destroyer(&stop, worker([&](int r) {
    EXPECT_TRUE(world.hv->DestroyDomain(domid_for(r)).ok());
  }));
  StoppingThread creator(&stop, worker([&](int r) {
    while (!world.hv->CreateDomain(domid_for(r), kSmall).ok()) {
      std::this_thread::yield();
    }
  }));

  int kept = 0, dropped = 0, refused = 0;
  for (int r = 0; r < kRounds; ++r) {
    const domid_t x = domid_for(r);
    const uint32_t old_gen = GenerationOf(world, x);
    round.store(r + 1);
    while (done.load() < 3 * (r + 1)) std::this_thread::yield();
    ASSERT_TRUE(connected[r].ok() ||
                connected[r].code() == absl::StatusCode::kNotFound)
        << "round " << r << ": " << connected[r];
    // The re-created domain's ring (its predecessor's went with it).
    RawGuest guest_x = world.Guest(x);
    ASSERT_EQ(guest_x.Register(x == kA ? kPortA : kPortB, XEN_ARGO_DOMID_ANY,
                               kRingLen, frames),
              0);

    int visible = 0;
    for (const auto& [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
      const uint32_t from_gen = GenerationOf(world, from.domid);
      const absl::optional<Endpoint> shown = world.table.Lookup(from);
      const ImplicitDestination d =
          world.table.Resolve(from.domid, from_gen, from.port);
      const std::vector<uint8_t> payload = SeqPayload(r);
      const int64_t rc = ImplicitWorld::SendImplicit(world.Guest(from.domid),
                                                     from.port, payload);
      if (shown.has_value()) {
        ++visible;
        EXPECT_EQ(*shown, to) << "round " << r;
        ASSERT_EQ(d.rc, 0) << "round " << r << ": a cable the table shows "
                           << "resolves nothing";
        EXPECT_EQ(d.domain_generation, GenerationOf(world, to.domid))
            << "round " << r << ": a cable to a dead domain";
        EXPECT_EQ(rc, static_cast<int64_t>(payload.size()))
            << "round " << r << ": a live cable did not deliver";
        // It landed, intact, in the live destination's ring.
        RingView view = world.Guest(to.domid).View(frames, kRingLen);
        std::vector<ReceivedMessage> got;
        ASSERT_TRUE(Drain(*view.reader, &got));
        ASSERT_EQ(got.size(), 1u) << "round " << r;
        EXPECT_EQ(SeqOf(got[0].payload), absl::optional<uint32_t>(r));
        EXPECT_EQ(got[0].source.domain_id, from.domid);
      } else {
        EXPECT_EQ(d.rc, -XEN_ECONNREFUSED) << "round " << r;
        EXPECT_EQ(rc, -XEN_ECONNREFUSED) << "round " << r;
      }
    }
    // No entry the table counts but cannot show (one filed under a dead
    // generation, or leading to one).
    EXPECT_EQ(world.table.size(), static_cast<uint32_t>(visible))
        << "round " << r;
    EXPECT_EQ(world.table.Resolve(x, old_gen, x == kA ? kPortA : kPortB).rc,
              -XEN_ECONNREFUSED)
        << "round " << r << ": the destroyed domain's entry survived";
    if (!connected[r].ok()) {
      ++refused;
      EXPECT_EQ(visible, 0);
    } else if (visible == 2) {
      ++kept;
    } else {
      ++dropped;
      EXPECT_EQ(visible, 0) << "round " << r << ": half a cable";
    }
    if (visible != 0) ASSERT_TRUE(world.table.Disconnect(a, true).ok());
    ASSERT_EQ(world.table.size(), 0u);
  }
  connector.Join();
  destroyer.Join();
  creator.Join();
  // Which interleavings this run reached (connect after the re-create,
  // before the destroy, or while the domain was missing).
  RecordProperty("kept", kept);
  RecordProperty("dropped", dropped);
  RecordProperty("refused", refused);
}

}  // namespace
}  // namespace argo::testing
