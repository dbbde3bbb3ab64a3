// The event bus behind Watch: filters, the subscriber bound, a slow
// watcher's overflow (bounded memory, its stream ends), close.
#include <thread>

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

}  // namespace
}  // namespace argo::toolstack
