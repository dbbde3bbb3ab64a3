// Nesting in one process (DESIGN §7, issue 9): upward, downward and
// multi-hop delivery with the name path each receiver learns, the refusals
// (a guest forging a path, sends into a level's own buffers, depth), and
// the counted drops — run with the drainers inline (Pump) and threaded.
#include <string>

#include "absl/strings/str_cat.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/nesting/nesting_world.h"

namespace argo::testing {
namespace {

using W = NestingWorld;
constexpr uint32_t kType = 9;

xen_argo_addr_t Addr(domid_t d, xen_argo_port_t p) { return {p, d, 0}; }

MATCHER_P2(IsAddr, d, p, "") {
  return arg.domain_id == d && arg.aport == p && arg.pad == 0;
}

class NestingTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    nesting::ChildLevelOptions options;
    options.cpus = 2;
    options.threads = GetParam();
    ASSERT_TRUE(world_.Build(options).ok());
  }
  absl::optional<PathMessage> Next(GuestRing* ring) {
    return Receive(world_.stack(), ring);
  }
  NestingWorld world_;
};

TEST_P(NestingTest, UpFromL2ToL0AndTheReplyBackDown) {
  W::Cable(world_.l2(), {W::kL2Guest, 100}, {ARGO_DOMID_PARENT, 7});
  W::Cable(world_.l1(), {W::kL2, 7}, {ARGO_DOMID_PARENT, 8});
  W::Cable(world_.l0(), {W::kL1, 8}, {W::kStorage, 50});
  auto storage = world_.Listen(world_.l0(), W::kStorage, 50);
  auto l2g = world_.Listen(world_.l2(), W::kL2Guest, 100);

  auto sent = l2g.guest->SendImplicit(100, Bytes("hello"), kType);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 5u);  // the sender's payload, not the path
  auto up = Next(storage.ring);
  ASSERT_TRUE(up.has_value());
  // Seen from L0: l1a's port 8 / l2's port 7 / the L2 guest's port 100.
  EXPECT_THAT(up->source, IsAddr(W::kL1, 8));
  ASSERT_EQ(up->path.depth, 2);
  EXPECT_THAT(up->path.hops[0], IsAddr(W::kL2, 7));
  EXPECT_THAT(up->path.hops[1], IsAddr(W::kL2Guest, 100));
  EXPECT_EQ(up->path.dst_port, 0u);
  EXPECT_EQ(up->message_type, kType);
  EXPECT_EQ(up->payload, "hello");

  ASSERT_TRUE(storage.guest->SendImplicit(50, Bytes("ack"), kType + 1).ok());
  auto down = Next(l2g.ring);
  ASSERT_TRUE(down.has_value());
  // Seen from L2: my parent's port 7 / its parent's port 8 / storage:50.
  EXPECT_THAT(down->source, IsAddr(ARGO_DOMID_PARENT, 7));
  ASSERT_EQ(down->path.depth, 2);
  EXPECT_THAT(down->path.hops[0], IsAddr(ARGO_DOMID_PARENT, 8));
  EXPECT_THAT(down->path.hops[1], IsAddr(W::kStorage, 50));
  EXPECT_EQ(down->message_type, kType + 1);
  EXPECT_EQ(down->payload, "ack");
  // L0 keeps no translation for the levels below: its table has only the
  // one cable, and counted one wrap down.
  EXPECT_EQ(world_.l0().level->table().size(), 2u);
  EXPECT_EQ(world_.l0().level->hypervisor().nesting_stats().down_wrapped, 1u);
  EXPECT_EQ(world_.l2().link->stats().up_sent, 1u);
}

// A sender that uses all eight iovs: with the path block that is nine
// pieces, and the parent takes eight (the uplink joins the last two).
TEST_P(NestingTest, AnUpwardSendMayUseEveryIov) {
  W::Cable(world_.l2(), {W::kL2Guest, 100}, {ARGO_DOMID_PARENT, 7});
  W::Cable(world_.l1(), {W::kL2, 7}, {ARGO_DOMID_PARENT, 8});
  W::Cable(world_.l0(), {W::kL1, 8}, {W::kStorage, 50});
  auto storage = world_.Listen(world_.l0(), W::kStorage, 50);
  auto l2g = world_.Listen(world_.l2(), W::kL2Guest, 100);
  const std::vector<std::string> pieces = {"a", "bb", "ccc", "dddd",
                                           "e", "ff", "ggg", "hhhh"};
  std::vector<absl::Span<const uint8_t>> parts;
  for (const std::string& p : pieces) {
    parts.push_back(absl::MakeConstSpan(
        reinterpret_cast<const uint8_t*>(p.data()), p.size()));
  }
  auto sent = l2g.guest->Sendv(100, guest::kImplicitDestination, parts, kType);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 20u);
  auto up = Next(storage.ring);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->path.depth, 2);
  EXPECT_EQ(up->payload, "abbcccddddeffggghhhh");
}

TEST_P(NestingTest, L2ToASiblingAtL1) {
  W::Cable(world_.l2(), {W::kL2Guest, 100}, {ARGO_DOMID_PARENT, 7});
  W::Cable(world_.l1(), {W::kL2, 7}, {W::kL1Guest, 30});
  auto l1g = world_.Listen(world_.l1(), W::kL1Guest, 30);
  auto l2g = world_.Listen(world_.l2(), W::kL2Guest, 100);
  ASSERT_TRUE(l2g.guest->SendImplicit(100, Bytes("sib"), kType).ok());
  auto m = Next(l1g.ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(m->source, IsAddr(W::kL2, 7));
  ASSERT_EQ(m->path.depth, 1);
  EXPECT_THAT(m->path.hops[0], IsAddr(W::kL2Guest, 100));
  EXPECT_EQ(m->payload, "sib");
  // And back down into L2.
  ASSERT_TRUE(l1g.guest->SendImplicit(30, Bytes("back"), kType).ok());
  auto r = Next(l2g.ring);
  ASSERT_TRUE(r.has_value());
  EXPECT_THAT(r->source, IsAddr(ARGO_DOMID_PARENT, 7));
  ASSERT_EQ(r->path.depth, 1);
  EXPECT_THAT(r->path.hops[0], IsAddr(W::kL1Guest, 30));
  EXPECT_EQ(r->payload, "back");
}

TEST_P(NestingTest, AcrossTwoL1s) {
  W::Cable(world_.l2(), {W::kL2Guest, 100}, {ARGO_DOMID_PARENT, 7});
  W::Cable(world_.l1(), {W::kL2, 7}, {ARGO_DOMID_PARENT, 8});
  W::Cable(world_.l0(), {W::kL1, 8}, {W::kL1b, 5});
  W::Cable(world_.l1b(), {ARGO_DOMID_PARENT, 5}, {W::kL1bGuest, 40});
  auto far = world_.Listen(world_.l1b(), W::kL1bGuest, 40);
  auto l2g = world_.Listen(world_.l2(), W::kL2Guest, 100);
  ASSERT_TRUE(l2g.guest->SendImplicit(100, Bytes("over"), kType).ok());
  auto m = Next(far.ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(m->source, IsAddr(ARGO_DOMID_PARENT, 5));
  ASSERT_EQ(m->path.depth, 3);
  EXPECT_THAT(m->path.hops[0], IsAddr(W::kL1, 8));
  EXPECT_THAT(m->path.hops[1], IsAddr(W::kL2, 7));
  EXPECT_THAT(m->path.hops[2], IsAddr(W::kL2Guest, 100));
  EXPECT_EQ(m->payload, "over");
}

TEST_P(NestingTest, L2UpToL0AndDownToAnotherL2Guest) {
  W::Cable(world_.l2(), {W::kL2Guest, 100}, {ARGO_DOMID_PARENT, 7});
  W::Cable(world_.l1(), {W::kL2, 7}, {ARGO_DOMID_PARENT, 8});
  W::Cable(world_.l0(), {W::kL1, 8}, {W::kL1, 9});
  W::Cable(world_.l1(), {ARGO_DOMID_PARENT, 9}, {W::kL2, 11});
  W::Cable(world_.l2(), {ARGO_DOMID_PARENT, 11}, {W::kL2Peer, 60});
  auto peer = world_.Listen(world_.l2(), W::kL2Peer, 60);
  auto l2g = world_.Listen(world_.l2(), W::kL2Guest, 100);
  ASSERT_TRUE(l2g.guest->SendImplicit(100, Bytes("loop-free"), kType).ok());
  auto m = Next(peer.ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(m->source, IsAddr(ARGO_DOMID_PARENT, 11));
  ASSERT_EQ(m->path.depth, 4);
  EXPECT_THAT(m->path.hops[0], IsAddr(ARGO_DOMID_PARENT, 9));
  EXPECT_THAT(m->path.hops[1], IsAddr(W::kL1, 8));
  EXPECT_THAT(m->path.hops[2], IsAddr(W::kL2, 7));
  EXPECT_THAT(m->path.hops[3], IsAddr(W::kL2Guest, 100));
  EXPECT_EQ(m->payload, "loop-free");
}

TEST_P(NestingTest, GuestsCannotForgePathsOrWriteIntoALevelsBuffers) {
  auto storage = world_.Listen(world_.l0(), W::kStorage, 50);
  NamePath forged;
  forged.message_type = kType;
  ASSERT_TRUE(forged.Push(Addr(3, 3)));
  uint8_t block[ARGO_PATH_MAX_BYTES];
  const uint32_t n = WriteNamePath(forged, block);
  auto sent = storage.guest->Send(50, Addr(W::kStorage, 50),
                                  absl::MakeConstSpan(block, n),
                                  ARGO_MSG_TYPE_PATH);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_EINVAL);
  // Straight into l1a's receive buffer: refused, only the level places
  // messages there.
  sent = storage.guest->Send(50, Addr(W::kL1, ARGO_LEVEL_RX_PORT_BASE),
                             Bytes("x"), kType);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_ECONNREFUSED);
}

TEST_P(NestingTest, WhatCannotBeDeliveredDownIsCountedNotLost) {
  // L0 sends to l1a's port 99, which l1a has not cabled.
  W::Cable(world_.l0(), {W::kStorage, 50}, {W::kL1, 99});
  auto storage = world_.Listen(world_.l0(), W::kStorage, 50);
  ASSERT_TRUE(storage.guest->SendImplicit(50, Bytes("lost?"), kType).ok());
  for (int i = 0; i < 5000 && world_.l1().link->stats().dropped_no_cable == 0;
       ++i) {
    world_.stack().PumpAll();
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(world_.l1().link->stats().dropped_no_cable, 1u);
  EXPECT_EQ(world_.l1().link->stats().down_delivered, 0u);
}

TEST_P(NestingTest, AParentErrorIsTheSendersErrno) {
  // Cabled up at L2 and L1, but L0 has no cable for l1a:8.
  W::Cable(world_.l2(), {W::kL2Guest, 100}, {ARGO_DOMID_PARENT, 7});
  W::Cable(world_.l1(), {W::kL2, 7}, {ARGO_DOMID_PARENT, 8});
  auto l2g = world_.Listen(world_.l2(), W::kL2Guest, 100);
  auto sent = l2g.guest->SendImplicit(100, Bytes("nowhere"), kType);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_ECONNREFUSED);
  EXPECT_EQ(world_.l2().level->hypervisor().nesting_stats().up_refused, 1u);
  EXPECT_EQ(world_.l1().level->hypervisor().nesting_stats().up_refused, 1u);
  // A level with no parent: ENOSYS, as before nesting.
  W::Cable(world_.l0(), {W::kStorage, 51}, {ARGO_DOMID_PARENT, 1});
  auto storage = world_.Listen(world_.l0(), W::kStorage, 51);
  sent = storage.guest->SendImplicit(51, Bytes("up?"), kType);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_ENOSYS);
}

TEST_P(NestingTest, ExplainSaysWhereALevelHandsOver) {
  W::Cable(world_.l2(), {W::kL2Guest, 100}, {ARGO_DOMID_PARENT, 7});
  W::Cable(world_.l0(), {W::kStorage, 50}, {W::kL1, 9});
  implicit_dest::RouteExplanation up =
      world_.l2().level->Explain({W::kL2Guest, 100}, 64);
  EXPECT_EQ(up.xen_errno, 0);
  EXPECT_EQ(up.decided_by, SendCheck::kUplink);
  EXPECT_THAT(up.reason, ::testing::HasSubstr("parent:7"));
  implicit_dest::RouteExplanation down =
      world_.l0().level->Explain({W::kStorage, 50}, 64);
  EXPECT_EQ(down.xen_errno, 0);
  EXPECT_EQ(down.decided_by, SendCheck::kChildLevel);
  EXPECT_THAT(down.reason, ::testing::HasSubstr("child level"));
}

INSTANTIATE_TEST_SUITE_P(Drainers, NestingTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Threaded" : "Inline";
                         });

// A message for a level may fill at most half of one of its buffers
// (docs/nesting.md: so the level knows when a sender can be waiting).
TEST(NestingBufferTest, AMessageForALevelFillsAtMostHalfABuffer) {
  auto stack = nesting::Stack::Create();
  ASSERT_TRUE(stack.ok());
  nesting::ChildLevelOptions options;
  options.threads = false;
  options.buffer_bytes = 16 * 1024;
  auto l1 = (*stack)->AddLevel((*stack)->root(), "l1", 10, options);
  ASSERT_TRUE(l1.ok());
  ASSERT_TRUE((*stack)->AddDomain((*stack)->root(), 1).ok());
  ASSERT_TRUE((*stack)->AddDomain(**l1, 1).ok());
  ASSERT_TRUE((*l1)->level->table()
                  .Connect({ARGO_DOMID_PARENT, 5}, {1, 40}, false)
                  .ok());
  auto sender = (*stack)->GuestAt((*stack)->root(), 1);
  auto receiver = (*stack)->GuestAt(**l1, 1);
  ASSERT_TRUE(sender.ok() && receiver.ok());
  auto ring = (*receiver)->RegisterRing(40, XEN_ARGO_DOMID_ANY, 64 * 1024);
  ASSERT_TRUE(ring.ok());
  // 8 KiB with header and path is over half of 16 KiB; 8 KiB - 128 is not.
  const std::vector<uint8_t> big(8 * 1024, 1), fits(8 * 1024 - 128, 2);
  auto sent = (*sender)->Send(9, Addr(10, 5), big, kType);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_EMSGSIZE);
  ASSERT_TRUE((*sender)->Send(9, Addr(10, 5), fits, kType).ok());
  auto m = Receive(**stack, *ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload.size(), fits.size());
}

// Depth: a chain of levels L0 <- L1 <- ... <- L9, a guest at the bottom
// cabled up all the way. Eight hops fit the path; the ninth is ELOOP.
TEST(NestingDepthTest, EightHopsFitTheNinthIsRefused) {
  auto stack = nesting::Stack::Create();
  ASSERT_TRUE(stack.ok());
  std::vector<nesting::Stack::Node*> chain = {&(*stack)->root()};
  nesting::ChildLevelOptions options;
  options.threads = false;
  options.buffer_bytes = 16 * 1024;
  for (int i = 1; i <= 9; ++i) {
    auto node = (*stack)->AddLevel(*chain.back(), absl::StrCat("l", i), 50,
                                   options);
    ASSERT_TRUE(node.ok()) << node.status();
    chain.push_back(*node);
  }
  constexpr domid_t kGuest = 1;
  // Level i's guest cabled up; each level i (1..9) forwards its child's
  // domain 50 port 7 up on port 7.
  for (int i = 1; i <= 9; ++i) {
    ASSERT_TRUE((*stack)->AddDomain(*chain[i], kGuest).ok());
    ASSERT_TRUE(chain[i]->level->table()
                    .Connect({kGuest, 100}, {ARGO_DOMID_PARENT, 7}, false)
                    .ok());
    if (i < 9) {
      ASSERT_TRUE(chain[i]->level->table()
                      .Connect({50, 7}, {ARGO_DOMID_PARENT, 7}, false)
                      .ok());
    }
  }
  ASSERT_TRUE((*stack)->AddDomain(*chain[0], kGuest).ok());
  ASSERT_TRUE(chain[0]->level->table().Connect({50, 7}, {kGuest, 70}, false).ok());
  auto top = (*stack)->GuestAt(*chain[0], kGuest);
  ASSERT_TRUE(top.ok());
  auto ring = (*top)->RegisterRing(70, XEN_ARGO_DOMID_ANY, 64 * 1024);
  ASSERT_TRUE(ring.ok());
  // From L8: 8 hops pushed by L8..L1 -> delivered with depth 8.
  auto l8 = (*stack)->GuestAt(*chain[8], kGuest);
  ASSERT_TRUE(l8.ok());
  ASSERT_TRUE((*l8)->SendImplicit(100, Bytes("deep"), kType).ok());
  auto m = Receive(**stack, *ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->path.depth, 8);
  EXPECT_EQ(m->payload, "deep");
  // From L9: a ninth hop does not fit: ELOOP reaches the sender, counted
  // where it happened (L1, pushing the ninth).
  auto l9 = (*stack)->GuestAt(*chain[9], kGuest);
  ASSERT_TRUE(l9.ok());
  auto sent = (*l9)->SendImplicit(100, Bytes("too deep"), kType);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_ELOOP);
  EXPECT_EQ(chain[1]->level->hypervisor().nesting_stats().loops, 1u);
}

}  // namespace
}  // namespace argo::testing
