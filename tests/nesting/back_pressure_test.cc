// Back-pressure across levels (DESIGN §7), never loss:
//  - down: a small receive buffer and a small guest ring, a sender that
//    retries on EAGAIN and a slow reader: every message arrives, in order;
//    the level's drainer did wait (down_blocked) and dropped nothing;
//  - up: a full L0 ring makes the L2 sender's send fail with EAGAIN at once
//    (forwarding is synchronous); once the L0 guest reads and notifies, the
//    wake-up travels down the levels and the waiting L2 send completes.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "gtest/gtest.h"
#include "tests/nesting/nesting_world.h"

namespace argo::testing {
namespace {

using W = NestingWorld;
constexpr uint32_t kType = 9;

std::string Numbered(uint32_t seq) {
  return absl::StrCat("message ", seq, " ", std::string(seq % 97, 'x'));
}

class BackPressureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nesting::ChildLevelOptions options;
    options.cpus = 1;
    options.threads = true;
    options.buffer_bytes = 4096;  // the smallest: a handful of messages
    ASSERT_TRUE(world_.Build(options).ok());
  }
  NestingWorld world_;
};

TEST_F(BackPressureTest, DownToASlowReaderLosesNothing) {
  constexpr uint32_t kMessages = 600;
  W::Cable(world_.l0(), {W::kStorage, 50}, {W::kL1, 9});
  W::Cable(world_.l1(), {ARGO_DOMID_PARENT, 9}, {W::kL1Guest, 30});
  auto storage = world_.Listen(world_.l0(), W::kStorage, 50);
  auto reader = world_.Listen(world_.l1(), W::kL1Guest, 30, 4096);
  ASSERT_NE(reader.ring, nullptr);

  absl::Status send_status;
  std::thread sender([&] {
    for (uint32_t seq = 0; seq < kMessages; ++seq) {
      auto sent = storage.guest->SendWaitingForSpace(
          50, guest::kImplicitDestination, Bytes(Numbered(seq)), kType,
          absl::Seconds(20));
      if (!sent.ok()) {
        send_status = sent.status();
        return;
      }
    }
  });
  uint32_t next = 0, wrong = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (next < kMessages && absl::Now() < deadline) {
    auto m = reader.ring->Read();
    ASSERT_TRUE(m.ok()) << m.status();
    if (!m->has_value()) {
      reader.guest->WaitVirq(absl::Milliseconds(5)).IgnoreError();
      continue;
    }
    auto parsed = Parse(**m);
    if (!parsed.has_value() || parsed->payload != Numbered(next)) ++wrong;
    ++next;
    // Slow: a pause every few messages lets the ring and the buffer fill.
    if (next % 8 == 0) absl::SleepFor(absl::Microseconds(500));
    reader.guest->NotifyNull().IgnoreError();
  }
  sender.join();
  EXPECT_TRUE(send_status.ok()) << send_status;
  EXPECT_EQ(next, kMessages);
  EXPECT_EQ(wrong, 0u);
  auto extra = reader.ring->Read();
  ASSERT_TRUE(extra.ok());
  EXPECT_FALSE(extra->has_value());
  const nesting::ParentLink::Stats st = world_.l1().link->stats();
  EXPECT_GT(st.down_blocked, 0u);
  EXPECT_EQ(st.dropped_no_cable + st.dropped_refused + st.dropped_malformed +
                st.dropped_loop,
            0u);
  // The parent's sender met the full buffer too: its ring counted EAGAINs.
  uint64_t buffer_eagain = 0;
  for (const RingSnapshot& r : world_.l0().level->hypervisor().ListRings()) {
    if (r.owner == W::kL1) buffer_eagain += r.counters.eagain;
  }
  EXPECT_GT(buffer_eagain, 0u);
}

TEST_F(BackPressureTest, UpIntoAFullRingIsEagainThenAWakeUpReachesL2) {
  W::Cable(world_.l2(), {W::kL2Guest, 100}, {ARGO_DOMID_PARENT, 7});
  W::Cable(world_.l1(), {W::kL2, 7}, {ARGO_DOMID_PARENT, 8});
  W::Cable(world_.l0(), {W::kL1, 8}, {W::kStorage, 50});
  auto storage = world_.Listen(world_.l0(), W::kStorage, 50, 4096);
  auto l2g = world_.Listen(world_.l2(), W::kL2Guest, 100);
  const std::vector<uint8_t> data(400, 0x6b);

  // Fill L0's ring: the send that does not fit fails at once.
  int sent = 0;
  absl::StatusOr<uint32_t> r;
  for (; sent < 100; ++sent) {
    r = l2g.guest->SendImplicit(100, data, kType);
    if (!r.ok()) break;
  }
  ASSERT_GT(sent, 0);
  ASSERT_LT(sent, 100);
  EXPECT_EQ(XenErrnoOf(r.status()), XEN_EAGAIN);

  const uint64_t refused_before = world_.l2().link->stats().up_refused;
  const uint64_t virqs_before =
      world_.l2().virqs->Count(W::kL2Guest);
  std::atomic<bool> done{false};
  absl::StatusOr<uint32_t> waited = absl::UnknownError("not run");
  std::thread waiter([&] {
    waited = l2g.guest->SendWaitingForSpace(100, guest::kImplicitDestination,
                                            data, kType, absl::Seconds(20));
    done.store(true);
  });
  // The waiting send has met the full ring (and is now waiting) before
  // L0's guest reads: only a wake-up can finish it.
  for (int i = 0; i < 5000 && world_.l2().link->stats().up_refused ==
                                  refused_before;
       ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_GT(world_.l2().link->stats().up_refused, refused_before);
  EXPECT_FALSE(done.load());
  int read = 0;
  for (;;) {
    auto m = storage.ring->Read();
    ASSERT_TRUE(m.ok());
    if (!m->has_value()) break;
    ++read;
  }
  EXPECT_EQ(read, sent);
  ASSERT_TRUE(storage.guest->NotifyNull().ok());
  waiter.join();
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(*waited, data.size());
  // The VIRQ reached the L2 sender, raised by its own level.
  EXPECT_GT(world_.l2().virqs->Count(W::kL2Guest), virqs_before);
  auto m = storage.ring->Read();
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->has_value());
  auto parsed = Parse(**m);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->payload, std::string(data.begin(), data.end()));
}

}  // namespace
}  // namespace argo::testing
