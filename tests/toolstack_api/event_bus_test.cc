// The event bus behind Watch: filters, the subscriber bound, a slow
// watcher's overflow (bounded memory, its stream ends), close, and the
// per-domain rate limits that keep one domain's flood from ending every
// other watcher's stream (on a fake clock: no sleeps, no timing luck).
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "toolstack_api/event_bus.h"

namespace argo::toolstack {
namespace {

v1::Event Make(v1::Event::Kind kind, const std::string& summary) {
  v1::Event e;
  e.set_kind(kind);
  e.set_summary(summary);
  return e;
}

TEST(EventBusTest, FiltersByKindAndDomain) {
  EventBus bus;
  auto all = bus.Subscribe({});
  auto cables = bus.Subscribe({{v1::Event::CABLE_CHANGED}, absl::nullopt});
  auto dom7 = bus.Subscribe({{}, domid_t{7}});
  ASSERT_TRUE(all.ok() && cables.ok() && dom7.ok());
  const domid_t seven[] = {7, 8};
  const domid_t three[] = {3};
  bus.Publish(Make(v1::Event::DOMAIN_CREATED, "a"), three);
  bus.Publish(Make(v1::Event::CABLE_CHANGED, "b"), seven);
  v1::Event e;
  using W = Subscription::Wait;
  ASSERT_EQ((*all)->Next(absl::ZeroDuration(), &e), W::kEvent);
  EXPECT_EQ(e.summary(), "a");
  EXPECT_GT(e.unix_nanos(), 0);
  ASSERT_EQ((*all)->Next(absl::ZeroDuration(), &e), W::kEvent);
  EXPECT_EQ(e.summary(), "b");
  EXPECT_EQ((*all)->Next(absl::ZeroDuration(), &e), W::kIdle);
  ASSERT_EQ((*cables)->Next(absl::ZeroDuration(), &e), W::kEvent);
  EXPECT_EQ(e.summary(), "b");
  EXPECT_EQ((*cables)->Next(absl::ZeroDuration(), &e), W::kIdle);
  ASSERT_EQ((*dom7)->Next(absl::ZeroDuration(), &e), W::kEvent);
  EXPECT_EQ(e.summary(), "b");
}

TEST(EventBusTest, SubscribersAreBounded) {
  EventBus bus;
  std::vector<std::unique_ptr<Subscription>> subs;
  for (size_t i = 0; i < EventBus::kMaxSubscribers; ++i) {
    auto s = bus.Subscribe({});
    ASSERT_TRUE(s.ok());
    subs.push_back(*std::move(s));
  }
  auto refused = bus.Subscribe({});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  subs.pop_back();
  EXPECT_TRUE(bus.Subscribe({}).ok());
}

TEST(EventBusTest, ASlowWatcherOverflowsInsteadOfGrowing) {
  EventBus bus;
  auto slow = bus.Subscribe({});
  ASSERT_TRUE(slow.ok());
  for (size_t i = 0; i < EventBus::kQueueCapacity + 10; ++i) {
    bus.Publish(Make(v1::Event::DOMAIN_CREATED, "x"), {});
  }
  v1::Event e;
  EXPECT_EQ((*slow)->Next(absl::ZeroDuration(), &e),
            Subscription::Wait::kOverflowed);
  EXPECT_EQ((*slow)->dropped(), EventBus::kQueueCapacity + 10);
}

TEST(EventBusTest, NextWakesOnPublishAndOnClose) {
  EventBus bus;
  auto sub = bus.Subscribe({});
  ASSERT_TRUE(sub.ok());
  std::thread publisher([&bus] {
    bus.Publish(Make(v1::Event::POLICY_LOADED, "p"), {});
    bus.Close();
  });
  v1::Event e;
  EXPECT_EQ((*sub)->Next(absl::Seconds(30), &e), Subscription::Wait::kEvent);
  EXPECT_EQ((*sub)->Next(absl::Seconds(30), &e), Subscription::Wait::kClosed);
  publisher.join();
  EXPECT_EQ(bus.Subscribe({}).status().code(), absl::StatusCode::kUnavailable);
}

// A clock the test moves by hand.
class FakeClock {
 public:
  EventBus::Clock clock() {
    return [this] { return now_; };
  }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

// Everything queued for `sub` now (Next also lets due summaries out).
std::vector<v1::Event> Drain(Subscription& sub) {
  std::vector<v1::Event> out;
  v1::Event e;
  Subscription::Wait w;
  while ((w = sub.Next(absl::ZeroDuration(), &e)) ==
         Subscription::Wait::kEvent) {
    out.push_back(e);
  }
  EXPECT_EQ(w, Subscription::Wait::kIdle) << "the watcher lost its stream";
  return out;
}

uint64_t Suppressed(const std::vector<v1::Event>& events, v1::Event::Kind kind,
                    std::vector<std::string>* summaries = nullptr) {
  uint64_t n = 0;
  for (const v1::Event& e : events) {
    if (e.kind() != kind || e.suppressed() == 0) continue;
    n += e.suppressed();
    if (summaries != nullptr) summaries->push_back(e.summary());
  }
  return n;
}

size_t Plain(const std::vector<v1::Event>& events, v1::Event::Kind kind) {
  return std::count_if(events.begin(), events.end(), [kind](const auto& e) {
    return e.kind() == kind && e.suppressed() == 0;
  });
}

constexpr FloodLimits kLimits;  // the daemon's: 50/s, bursts of 100, 1 s

TEST(EventBusFloodTest, AFloodFromOneDomainIsSummarisedNotQueued) {
  FakeClock clock;
  EventBus bus(kLimits, clock.clock());
  auto reader = bus.Subscribe({});
  auto target = bus.Subscribe({{}, domid_t{5}});  // the flood's partner
  ASSERT_TRUE(reader.ok() && target.ok());
  // 100,000 ring events from dom 3 (partner 5) in one instant, with other
  // domains' events in between.
  const domid_t flood[] = {3, 5};
  const domid_t other[] = {4, 6};
  const domid_t created[] = {7};
  for (int i = 0; i < 100'000; ++i) {
    bus.Publish(Make(v1::Event::RING_REGISTERED, "flood"), flood);
    if (i % 1000 == 0) {
      bus.Publish(Make(v1::Event::RING_REGISTERED, "other"), other);
      bus.Publish(Make(v1::Event::DOMAIN_CREATED, "created"), created);
    }
  }
  std::vector<v1::Event> seen = Drain(**reader);
  // The burst of dom 3's, every one of dom 4's (within its own burst) and
  // every domain event; nothing close to a queue's worth.
  EXPECT_EQ(Plain(seen, v1::Event::RING_REGISTERED), kLimits.burst + 100);
  EXPECT_EQ(Plain(seen, v1::Event::DOMAIN_CREATED), 100u);
  EXPECT_EQ(Suppressed(seen, v1::Event::RING_REGISTERED), 0u) << "not yet due";
  // The window closes a second after the first suppressed event.
  clock.Advance(absl::Seconds(1));
  seen = Drain(**reader);
  std::vector<std::string> summaries;
  EXPECT_EQ(Suppressed(seen, v1::Event::RING_REGISTERED, &summaries),
            100'000u - kLimits.burst);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].summary(),
            "suppressed 99900 ring_registered events from dom 3 in the last "
            "1.0 s (limit 50/s, burst 100)");
  EXPECT_FALSE(seen[0].has_ring()) << "a summary carries no detail";
  EXPECT_GT(seen[0].unix_nanos(), 0);
  // The flood's partner's watcher learns of it too.
  std::vector<v1::Event> at_target = Drain(**target);
  EXPECT_EQ(Plain(at_target, v1::Event::RING_REGISTERED), kLimits.burst);
  EXPECT_EQ(Suppressed(at_target, v1::Event::RING_REGISTERED), 99'900u);
}

TEST(EventBusFloodTest, AReadingWatcherKeepsItsStreamWhileAStalledOneLosesIt) {
  FakeClock clock;
  EventBus bus(kLimits, clock.clock());
  auto reader = bus.Subscribe({});
  auto stalled = bus.Subscribe({});
  ASSERT_TRUE(reader.ok() && stalled.ok());
  // 100,000 denials from dom 3 over 100 simulated seconds: the limit lets
  // the burst and then 50 a second through, about 5,100 in all — more than
  // a queue holds, so only a watcher that keeps reading keeps its stream.
  const domid_t ids[] = {3, 1};
  uint64_t admitted = 0, suppressed = 0;
  for (int i = 0; i < 100'000; ++i) {
    bus.Publish(Make(v1::Event::ACCESS_DENIED, "denied"), ids);
    clock.Advance(absl::Milliseconds(1));
    if (i % 100 == 99) {
      std::vector<v1::Event> seen = Drain(**reader);
      admitted += Plain(seen, v1::Event::ACCESS_DENIED);
      suppressed += Suppressed(seen, v1::Event::ACCESS_DENIED);
    }
  }
  clock.Advance(absl::Seconds(1));
  std::vector<v1::Event> seen = Drain(**reader);
  admitted += Plain(seen, v1::Event::ACCESS_DENIED);
  suppressed += Suppressed(seen, v1::Event::ACCESS_DENIED);
  EXPECT_EQ(admitted + suppressed, 100'000u) << "every denial accounted for";
  EXPECT_GT(admitted, EventBus::kQueueCapacity);
  EXPECT_LE(admitted, kLimits.burst + 50 * 101);
  v1::Event e;
  EXPECT_EQ((*stalled)->Next(absl::ZeroDuration(), &e),
            Subscription::Wait::kOverflowed);
}

TEST(EventBusFloodTest, SummariesFollowTheKindFilter) {
  FakeClock clock;
  EventBus bus(kLimits, clock.clock());
  auto denials = bus.Subscribe({{v1::Event::ACCESS_DENIED}, absl::nullopt});
  ASSERT_TRUE(denials.ok());
  const domid_t ids[] = {2, 9};
  for (int i = 0; i < 500; ++i) {
    bus.Publish(Make(v1::Event::RING_UNREGISTERED, "r"), ids);
    bus.Publish(Make(v1::Event::ACCESS_DENIED, "d"), ids);
  }
  clock.Advance(absl::Seconds(1));
  std::vector<v1::Event> seen = Drain(**denials);
  EXPECT_EQ(Plain(seen, v1::Event::ACCESS_DENIED), kLimits.burst);
  EXPECT_EQ(Suppressed(seen, v1::Event::ACCESS_DENIED), 400u);
  EXPECT_EQ(seen.size(), kLimits.burst + 1) << "no ring events or summaries";
}

TEST(EventBusFloodTest, AQuietDomainIsNeverLimitedAndOtherKindsNeverAre) {
  FakeClock clock;
  EventBus bus(kLimits, clock.clock());
  auto reader = bus.Subscribe({});
  ASSERT_TRUE(reader.ok());
  const domid_t ids[] = {3};
  // 50 a second is within the limit: every event, no summary.
  for (int i = 0; i < 1000; ++i) {
    bus.Publish(Make(v1::Event::RING_REGISTERED, "r"), ids);
    clock.Advance(absl::Milliseconds(20));
  }
  std::vector<v1::Event> seen = Drain(**reader);
  EXPECT_EQ(Plain(seen, v1::Event::RING_REGISTERED), 1000u);
  EXPECT_EQ(Suppressed(seen, v1::Event::RING_REGISTERED), 0u);
  // Domain, cable and policy events are the toolstack's own: unlimited.
  for (int i = 0; i < 900; ++i) {
    bus.Publish(Make(v1::Event::CABLE_CHANGED, "c"), ids);
  }
  EXPECT_EQ(Plain(Drain(**reader), v1::Event::CABLE_CHANGED), 900u);
}

// A guest process that attaches and dies in a loop is a flood too.
TEST(EventBusFloodTest, AnAttachCrashLoopIsLimited) {
  FakeClock clock;
  EventBus bus(kLimits, clock.clock());
  auto reader = bus.Subscribe({});
  ASSERT_TRUE(reader.ok());
  const domid_t ids[] = {3};
  for (int i = 0; i < 10'000; ++i) {
    for (v1::Event::Kind kind :
         {v1::Event::GUEST_ATTACHED, v1::Event::GUEST_DETACHED,
          v1::Event::DOMAIN_CRASHED}) {
      bus.Publish(Make(kind, "loop"), ids);
    }
  }
  std::vector<v1::Event> seen = Drain(**reader);
  for (v1::Event::Kind kind :
       {v1::Event::GUEST_ATTACHED, v1::Event::GUEST_DETACHED,
        v1::Event::DOMAIN_CRASHED}) {
    EXPECT_EQ(Plain(seen, kind), kLimits.burst);
  }
  clock.Advance(absl::Seconds(1));
  seen = Drain(**reader);
  EXPECT_EQ(Suppressed(seen, v1::Event::DOMAIN_CRASHED), 10'000u - kLimits.burst);
}

TEST(EventBusFloodTest, DestroyingADomainReportsItsFloodAndDropsItsState) {
  FakeClock clock;
  EventBus bus(kLimits, clock.clock());
  auto reader = bus.Subscribe({});
  ASSERT_TRUE(reader.ok());
  const domid_t ids[] = {3, 1};
  for (int i = 0; i < 300; ++i) {
    bus.Publish(Make(v1::Event::RING_REGISTERED, "r"), ids);
  }
  EXPECT_EQ(bus.flood_sources(), 1u);
  const domid_t three[] = {3};
  bus.Publish(Make(v1::Event::DOMAIN_DESTROYED, "gone"), three);
  EXPECT_EQ(bus.flood_sources(), 0u);
  std::vector<v1::Event> seen = Drain(**reader);
  ASSERT_EQ(seen.size(), kLimits.burst + 2);
  // At once, not a second later, and before the destruction.
  EXPECT_EQ(seen[kLimits.burst].suppressed(), 200u);
  EXPECT_EQ(seen.back().kind(), v1::Event::DOMAIN_DESTROYED);
  clock.Advance(absl::Seconds(5));
  EXPECT_TRUE(Drain(**reader).empty()) << "no second summary";
  // A new domain with the id starts with a full bucket.
  for (int i = 0; i < 100; ++i) {
    bus.Publish(Make(v1::Event::RING_REGISTERED, "r"), ids);
  }
  EXPECT_EQ(Plain(Drain(**reader), v1::Event::RING_REGISTERED), 100u);
}

TEST(EventBusFloodTest, LimiterStateIsBoundedAndUntrackedSourcesShareALimit) {
  FakeClock clock;
  FloodLimits limits;
  limits.max_tracked_sources = 2;
  EventBus bus(limits, clock.clock());
  auto reader = bus.Subscribe({});
  auto elsewhere = bus.Subscribe({{}, domid_t{42}});
  ASSERT_TRUE(reader.ok() && elsewhere.ok());
  // Doms 1 and 2 flood (and stay busy); 3..100 then share one bucket.
  for (domid_t d = 1; d <= 100; ++d) {
    const domid_t ids[] = {d};
    for (int i = 0; i < 200; ++i) {
      bus.Publish(Make(v1::Event::ACCESS_DENIED, "d"), ids);
    }
  }
  EXPECT_EQ(bus.flood_sources(), 2u);
  clock.Advance(absl::Seconds(1));
  std::vector<v1::Event> seen = Drain(**reader);
  EXPECT_EQ(Plain(seen, v1::Event::ACCESS_DENIED), 3 * limits.burst);
  std::vector<std::string> summaries;
  EXPECT_EQ(Suppressed(seen, v1::Event::ACCESS_DENIED, &summaries),
            100u * 200u - 3 * limits.burst);
  ASSERT_EQ(summaries.size(), 3u);
  EXPECT_NE(summaries[2].find("from domains past the 2 tracked"),
            std::string::npos)
      << summaries[2];
  // An untracked summary concerns everyone (its sources are not named).
  EXPECT_EQ(Suppressed(Drain(**elsewhere), v1::Event::ACCESS_DENIED),
            98u * 200u - limits.burst);
  // Once quiet (windows closed, buckets full) a tracked domain is evicted
  // to make room for a new one.
  clock.Advance(absl::Seconds(10));
  const domid_t fresh[] = {77};
  bus.Publish(Make(v1::Event::ACCESS_DENIED, "d"), fresh);
  EXPECT_EQ(bus.flood_sources(), 1u);
}

}  // namespace
}  // namespace argo::toolstack
