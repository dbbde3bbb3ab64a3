// CaptureHub (issue 11): filters, fan-out to several captures, the bounded
// queue (a reader that stops reading costs senders nothing but drops, and
// memory stays what it was at start), and the tap unset when none runs.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"
#include "tests/testing/implicit_world.h"
#include "toolstack_api/capture/capture_hub.h"

namespace argo::toolstack {
namespace {

using ::argo::testing::ImplicitWorld;
using ::argo::testing::RawGuest;
using ::argo::testing::RingView;

constexpr domid_t kA = 1;
constexpr domid_t kB = 2;
constexpr domid_t kC = 3;

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

class CaptureHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (domid_t d : {kA, kB, kC}) world_.AddDomain(d);
    a_ = std::make_unique<RawGuest>(world_.Guest(kA));
    b_ = std::make_unique<RawGuest>(world_.Guest(kB));
    c_ = std::make_unique<RawGuest>(world_.Guest(kC));
    ASSERT_EQ(a_->Register(10, XEN_ARGO_DOMID_ANY, 65536,
                           RawGuest::Frames(65536)),
              0);
  }
  std::vector<CapturedMessage> DrainAll(Capture& capture) {
    std::vector<CapturedMessage> out;
    while (capture.Drain(&out, 1000) != 0) {
    }
    return out;
  }

  ImplicitWorld world_;
  std::unique_ptr<RawGuest> a_, b_, c_;
  CaptureHub hub_{&*world_.hv};
};

TEST_F(CaptureHubTest, FiltersAndFanOut) {
  CaptureFilter from_b;
  from_b.domain = kB;
  CaptureFilter typed;
  typed.message_type = 9;
  typed.refused = true;
  CaptureFilter refused_only;
  refused_only.delivered = false;
  refused_only.refused = true;
  auto by_b = hub_.Start(from_b, 1 << 20);
  auto by_type = hub_.Start(typed, 1 << 20);
  auto refusals = hub_.Start(refused_only, 1 << 20);
  ASSERT_TRUE(by_b.ok() && by_type.ok() && refusals.ok());
  const int64_t before = absl::GetCurrentTimeNanos();
  ASSERT_EQ(b_->Send(1, kA, 10, Bytes("b"), 9), 1);
  ASSERT_EQ(c_->Send(2, kA, 10, Bytes("c"), 4), 1);
  ASSERT_EQ(c_->Send(2, kA, 11, Bytes("nowhere"), 9), -XEN_ECONNREFUSED);
  const auto b_seen = DrainAll(**by_b);
  const int64_t after = absl::GetCurrentTimeNanos();
  ASSERT_EQ(b_seen.size(), 1u);
  // The stamp (TSC or clock) comes back as CLOCK_REALTIME of the send,
  // within the clocks' agreement (a millisecond is generous).
  EXPECT_GE(b_seen[0].record.unix_nanos, before - 1'000'000);
  EXPECT_LE(b_seen[0].record.unix_nanos, after + 1'000'000);
  const auto typed_seen = DrainAll(**by_type);
  ASSERT_EQ(typed_seen.size(), 2u);
  EXPECT_EQ(typed_seen[1].record.xen_errno, XEN_ECONNREFUSED);
  const auto refused_seen = DrainAll(**refusals);
  ASSERT_EQ(refused_seen.size(), 1u);
  EXPECT_EQ(refused_seen[0].snapped, Bytes("nowhere"));
  for (auto* c : {&*by_b, &*by_type, &*refusals}) hub_.Stop(*c);
}

TEST_F(CaptureHubTest, AStalledReaderDropsAndSendersNeverWait) {
  CaptureFilter all;
  all.snap_len = 16;
  auto capture = hub_.Start(all, 4096);  // a few dozen slots
  ASSERT_TRUE(capture.ok());
  const uint32_t slots = (*capture)->slots();
  EXPECT_GE(slots, 16u);
  EXPECT_LE(slots, 64u);
  // Two senders, 2,000 messages each, nobody reading; a reader drains
  // the ring so sends keep succeeding.
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    RingView view = a_->View(RawGuest::Frames(65536), 65536);
    while (!stop) {
      while (view.reader->Read().ok() && view.reader->BytesAvailable() != 0) {
      }
      (void)view.reader->Read();
    }
  });
  std::vector<std::thread> senders;
  std::atomic<int> sent{0};
  for (RawGuest* g : {b_.get(), c_.get()}) {
    senders.emplace_back([&, g] {
      for (int i = 0; i < 2000;) {
        const int64_t rc = g->Send(3, kA, 10, Bytes("0123456789abcdefXYZ"));
        if (rc == -XEN_EAGAIN) continue;
        ASSERT_EQ(rc, 19);
        ++i;
        ++sent;
      }
    });
  }
  for (std::thread& t : senders) t.join();
  stop = true;
  reader.join();
  const auto seen = DrainAll(**capture);
  EXPECT_EQ(seen.size(), slots);  // the queue filled, then dropped
  EXPECT_EQ(seen.size() + (*capture)->dropped(), static_cast<size_t>(sent));
  for (const CapturedMessage& m : seen) {
    EXPECT_EQ(m.snapped, Bytes("0123456789abcdef"));  // snap 16
    EXPECT_EQ(m.record.payload_len, 19u);
  }
  // Drained, it takes messages again.
  ASSERT_EQ(b_->Send(3, kA, 10, Bytes("again")), 5);
  EXPECT_EQ(DrainAll(**capture).size(), 1u);
  hub_.Stop(*capture);
}

TEST_F(CaptureHubTest, BoundsAndStop) {
  CaptureFilter all;
  std::vector<std::shared_ptr<Capture>> running;
  for (int i = 0; i < CaptureHub::kMaxCaptures; ++i) {
    auto c = hub_.Start(all, 4096);
    ASSERT_TRUE(c.ok());
    running.push_back(*c);
  }
  EXPECT_EQ(hub_.Start(all, 4096).status().code(),
            absl::StatusCode::kResourceExhausted);
  CaptureFilter too_big;
  too_big.snap_len = 70000;
  for (auto& c : running) hub_.Stop(c);
  EXPECT_EQ(hub_.Start(too_big, 4096).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub_.Start(all, CaptureHub::kMaxBufferBytes + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  CaptureFilter nothing;
  nothing.delivered = false;
  EXPECT_EQ(hub_.Start(nothing, 4096).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Every capture stopped: the hypervisor has no tap, a stopped capture
  // sees nothing more.
  ASSERT_EQ(b_->Send(1, kA, 10, Bytes("unseen")), 6);
  EXPECT_TRUE(DrainAll(*running[0]).empty());
}

}  // namespace
}  // namespace argo::toolstack
