// What a level keeps to itself and what its parent still decides
// (DESIGN §5, §7):
//  - policy at every level: each level runs the strict example policy; a
//    guest that is implicit-only at L2 stays so, and a level's domain in
//    its parent is labelled and checked like any other domain there;
//  - a child level killed mid-stream: its domain crashed at the parent
//    while an L0 guest streams down to it: the sender gets ECONNREFUSED,
//    not a hang, and the child's link survives it.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "gtest/gtest.h"
#include "tests/nesting/nesting_world.h"
#include "tests/testing/runfiles.h"

namespace argo::testing {
namespace {

using W = NestingWorld;
constexpr uint32_t kType = 9;

// The strict example policy plus two types for levels' domains: level_t
// may hold the receive buffers (wildcard rings) and send to storage, but
// only implicitly; isolated_t may hold buffers and send nowhere.
std::string PolicyForLevels() {
  return StrictPolicyText() + R"pb(
    types: "level_t"
    types: "isolated_t"
    allow {
      source: "level_t"
      target: "xen"
      permissions: [ ENABLE, REGISTER_ANY_SOURCE ]
    }
    allow {
      source: "level_t"
      target: "storage_t"
      permissions: [ SEND ]
    }
    allow {
      source: "isolated_t"
      target: "xen"
      permissions: [ ENABLE, REGISTER_ANY_SOURCE ]
    }
  )pb";
}

// L0 <- L1 <- L2, every level with the policy above. At L0: storage
// (storage_t) and L1's domain (level_t); at L1: L2's domain (level_t); at
// L2: a client (the default, client_t) and a storage_t peer.
class LevelPolicyTest : public ::testing::Test {
 protected:
  static constexpr domid_t kStorage = 1, kL1 = 10, kL2 = 20;
  static constexpr domid_t kClient = 1, kPeer = 2;  // at L2

  void SetUp() override {
    const std::string text = PolicyForLevels();
    ASSERT_NE(StrictPolicyText(), "");
    nesting::LevelOptions root;
    root.policy_text = text;
    root.policy_name = "strict+levels";
    auto stack = nesting::Stack::Create(root);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    nesting::Stack::Node& l0 = stack_->root();
    nesting::ChildLevelOptions options;
    options.threads = false;
    options.level.policy_text = text;
    options.level.policy_name = "strict+levels";
    // Labels go on before the domains exist (as Level::CreateDomain does).
    ASSERT_TRUE(l0.level->policy()->Relabel(kStorage, "storage_t").ok());
    ASSERT_TRUE(l0.level->policy()->Relabel(kL1, "level_t").ok());
    ASSERT_TRUE(stack_->AddDomain(l0, kStorage).ok());
    auto l1 = stack_->AddLevel(l0, "l1", kL1, options);
    ASSERT_TRUE(l1.ok()) << l1.status();
    l1_ = *l1;
    ASSERT_TRUE(l1_->level->policy()->Relabel(kL2, "level_t").ok());
    auto l2 = stack_->AddLevel(*l1_, "l2", kL2, options);
    ASSERT_TRUE(l2.ok()) << l2.status();
    l2_ = *l2;
    ASSERT_TRUE(l2_->level->policy()->Relabel(kPeer, "storage_t").ok());
    ASSERT_TRUE(stack_->AddDomain(*l2_, kClient).ok());
    ASSERT_TRUE(stack_->AddDomain(*l2_, kPeer).ok());

    ASSERT_TRUE(l2_->level->table()
                    .Connect({kClient, 100}, {ARGO_DOMID_PARENT, 7}, true)
                    .ok());
    ASSERT_TRUE(l1_->level->table()
                    .Connect({kL2, 7}, {ARGO_DOMID_PARENT, 8}, true)
                    .ok());
    ASSERT_TRUE(l0.level->table().Connect({kL1, 8}, {kStorage, 50}, true).ok());
    auto storage = stack_->GuestAt(l0, kStorage);
    ASSERT_TRUE(storage.ok());
    storage_ = *std::move(storage);
    auto ring = storage_->RegisterRing(50, XEN_ARGO_DOMID_ANY, 64 * 1024);
    ASSERT_TRUE(ring.ok()) << ring.status();
    storage_ring_ = *ring;
    auto client = stack_->GuestAt(*l2_, kClient);
    ASSERT_TRUE(client.ok());
    client_ = *std::move(client);
    auto peer = stack_->GuestAt(*l2_, kPeer);
    ASSERT_TRUE(peer.ok());
    peer_ = *std::move(peer);
    ASSERT_TRUE(peer_->RegisterRing(60, XEN_ARGO_DOMID_ANY, 4096).ok());
  }

  std::unique_ptr<nesting::Stack> stack_;
  nesting::Stack::Node* l1_ = nullptr;
  nesting::Stack::Node* l2_ = nullptr;
  std::unique_ptr<guest::Guest> storage_, client_, peer_;
  GuestRing* storage_ring_ = nullptr;
};

TEST_F(LevelPolicyTest, ImplicitOnlyAtL2StaysSoWhileItsImplicitSendGoesUp) {
  // Explicit to a storage_t peer at its own level: SEND, but not
  // SEND_EXPLICIT.
  auto sent = client_->Send(100, {60, kPeer, 0}, Bytes("explicit"), kType);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_EACCES);
  // Implicit, cabled up through L1 to L0's storage: every level allows it.
  sent = client_->SendImplicit(100, Bytes("implicit"), kType);
  ASSERT_TRUE(sent.ok()) << sent.status();
  auto m = Receive(*stack_, storage_ring_);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->source.domain_id, kL1);
  EXPECT_EQ(m->payload, "implicit");
  ASSERT_EQ(m->path.depth, 2);
  EXPECT_EQ(m->path.hops[1].domain_id, kClient);
}

TEST_F(LevelPolicyTest, ALevelsDomainIsCheckedInItsParentLikeAnyDomain) {
  ASSERT_TRUE(client_->SendImplicit(100, Bytes("before"), kType).ok());
  ASSERT_TRUE(Receive(*stack_, storage_ring_).has_value());
  // L0 relabels L1's domain to a type that may not send to storage: the
  // L2 guest's send up is refused there, and the errno reaches it.
  ASSERT_TRUE(stack_->root().level->policy()->Relabel(kL1, "isolated_t").ok());
  auto sent = client_->SendImplicit(100, Bytes("after"), kType);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_EACCES);
  EXPECT_EQ(l1_->link->stats().up_refused, 1u);
  EXPECT_EQ(l2_->link->stats().up_refused, 1u);
  stack_->PumpAll();
  auto nothing = storage_ring_->Read();
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
  // Labelled back, the same send goes through: it was the label.
  ASSERT_TRUE(stack_->root().level->policy()->Relabel(kL1, "level_t").ok());
  ASSERT_TRUE(client_->SendImplicit(100, Bytes("again"), kType).ok());
  auto m = Receive(*stack_, storage_ring_);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, "again");
}

TEST(ChildLevelCrashTest, SenderGetsEconnrefusedNotAHang) {
  NestingWorld world;
  nesting::ChildLevelOptions options;
  options.cpus = 2;
  options.threads = true;
  options.buffer_bytes = 8 * 1024;
  ASSERT_TRUE(world.Build(options).ok());
  W::Cable(world.l0(), {W::kStorage, 50}, {W::kL1, 9});
  W::Cable(world.l1(), {ARGO_DOMID_PARENT, 9}, {W::kL1Guest, 30});
  auto storage = world.Listen(world.l0(), W::kStorage, 50);
  auto reader = world.Listen(world.l1(), W::kL1Guest, 30);

  std::atomic<uint32_t> sent{0};
  absl::Status last;
  std::thread sender([&] {
    for (uint32_t seq = 0; seq < 1000000; ++seq) {
      auto r = storage.guest->SendWaitingForSpace(
          50, guest::kImplicitDestination, Bytes(absl::StrCat("m", seq)),
          kType, absl::Seconds(20));
      if (!r.ok()) {
        last = r.status();
        return;
      }
      sent.fetch_add(1);
    }
  });
  // Mid-stream: some messages have arrived at L1's guest.
  uint32_t got = 0;
  for (int i = 0; i < 5000 && got < 50; ++i) {
    auto m = reader.ring->Read();
    ASSERT_TRUE(m.ok());
    if (m->has_value()) {
      auto parsed = Parse(**m);
      ASSERT_TRUE(parsed.has_value());
      EXPECT_EQ(parsed->payload, absl::StrCat("m", got));
      ++got;
      reader.guest->NotifyNull().IgnoreError();
    } else {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  ASSERT_EQ(got, 50u);
  // The child level's domain crashes at L0 (its buffers are torn down).
  ASSERT_TRUE(world.l0().level->CrashDomain(W::kL1).ok());
  sender.join();
  EXPECT_EQ(XenErrnoOf(last), XEN_ECONNREFUSED) << last;
  EXPECT_GE(sent.load(), got);
  // What was delivered before the crash is still in order; nothing after.
  for (;;) {
    auto m = reader.ring->Read();
    ASSERT_TRUE(m.ok());
    if (!m->has_value()) break;
    auto parsed = Parse(**m);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->payload, absl::StrCat("m", got));
    ++got;
  }
  EXPECT_LE(got, sent.load());
  // The link went on (no crash; stats readable) and L1 itself still
  // works: its own guests talk.
  const nesting::ParentLink::Stats st = world.l1().link->stats();
  EXPECT_EQ(st.dropped_malformed, 0u);
  auto local = reader.guest->RegisterRing(31, XEN_ARGO_DOMID_ANY, 4096);
  ASSERT_TRUE(local.ok()) << local.status();
  auto to_local =
      reader.guest->Send(30, {31, W::kL1Guest, 0}, Bytes("still here"), kType);
  ASSERT_TRUE(to_local.ok()) << to_local.status();
  auto m = Receive(world.stack(), *local);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, "still here");
}

}  // namespace
}  // namespace argo::testing
