// The hypervisor's traffic tap (docs/capture.md): one record per delivered
// or refused message, with every field and the snapped payload, on a level
// with implicit destinations; nothing reported while no tap is set.
#include <memory>
#include <string>
#include <vector>

#include "argo_core/hypervisor.h"
#include "argo_core/mutex.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/ring_info.h"
#include "argo_core/traffic_tap.h"
#include "gtest/gtest.h"
#include "tests/testing/implicit_world.h"

namespace argo::testing {
namespace {

constexpr domid_t kA = 1;
constexpr domid_t kB = 2;

struct Seen {
  TapRecord record;
  std::vector<uint8_t> snapped;
};

class RecordingTap final : public TrafficTap {
 public:
  explicit RecordingTap(uint32_t snap) : snap_(snap) {}
  void OnMessage(const TapRecord& record,
                 absl::Span<const MessagePart> payload) override {
    Seen seen{record, std::vector<uint8_t>(snap_)};
    seen.snapped.resize(CopyPayload(payload, seen.snapped.data(), snap_));
    MutexLock l(&mu_);
    seen_.push_back(std::move(seen));
  }
  std::vector<Seen> seen() {
    MutexLock l(&mu_);
    return seen_;
  }

 private:
  const uint32_t snap_;
  Mutex mu_;
  std::vector<Seen> seen_;
};

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

class TrafficTapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world_.AddDomain(kA);
    world_.AddDomain(kB);
    a_ = std::make_unique<RawGuest>(world_.Guest(kA));
    b_ = std::make_unique<RawGuest>(world_.Guest(kB));
    ASSERT_TRUE(world_.table.Connect({kB, 7}, {kA, 80}, false).ok());
    frames_ = RawGuest::Frames(4096);
    ASSERT_EQ(a_->Register(10, kB, 4096, frames_), 0);
    ASSERT_EQ(a_->Register(80, XEN_ARGO_DOMID_ANY, 4096,
                          RawGuest::Frames(4096, kFirstRingFrame + 2)),
              0);
  }

  ImplicitWorld world_;
  std::unique_ptr<RawGuest> a_, b_;  // once their domains exist
  std::vector<uint64_t> frames_;
  RecordingTap tap_{8};
};

TEST_F(TrafficTapTest, NothingIsReportedWithoutATap) {
  ASSERT_EQ(b_->Send(5, kA, 10, Bytes("quiet")), 5);
  world_.hv->SetTrafficTap(&tap_);
  world_.hv->SetTrafficTap(nullptr);
  ASSERT_EQ(b_->Send(5, kA, 10, Bytes("quiet")), 5);
  EXPECT_TRUE(tap_.seen().empty());
}

TEST_F(TrafficTapTest, EveryFieldOfUnicastWildcardImplicitAndRefused) {
  world_.hv->SetTrafficTap(&tap_);
  ASSERT_EQ(b_->Send(5, kA, 10, Bytes("unicast payload"), 3), 15);
  ASSERT_EQ(b_->Send(6, kA, 80, Bytes("wild"), 4), 4);
  ASSERT_EQ(ImplicitWorld::SendImplicit(*b_, 7, Bytes("via cable"), 5), 9);
  ASSERT_EQ(b_->Send(6, kA, 99, Bytes("nobody"), 6), -XEN_ECONNREFUSED);
  ASSERT_EQ(ImplicitWorld::SendImplicit(*b_, 8, Bytes("uncabled"), 7),
            -XEN_ECONNREFUSED);
  const std::vector<Seen> seen = tap_.seen();
  ASSERT_EQ(seen.size(), 5u);

  const TapRecord& unicast = seen[0].record;
  EXPECT_EQ(unicast.source.domain_id, kB);
  EXPECT_EQ(unicast.source.aport, 5u);
  EXPECT_EQ(unicast.ring.domain_id, kA);
  EXPECT_EQ(unicast.ring.aport, 10u);
  EXPECT_EQ(unicast.ring_partner, kB);
  EXPECT_EQ(unicast.message_type, 3u);
  EXPECT_FALSE(unicast.implicit);
  EXPECT_FALSE(unicast.from_host);
  EXPECT_EQ(unicast.xen_errno, 0);
  EXPECT_EQ(unicast.payload_len, 15u);
  EXPECT_EQ(seen[0].snapped, Bytes("unicast "));  // snap length 8

  EXPECT_EQ(seen[1].record.ring.aport, 80u);
  EXPECT_EQ(seen[1].record.ring_partner, XEN_ARGO_DOMID_ANY);
  EXPECT_EQ(seen[1].snapped, Bytes("wild"));

  const TapRecord& implicit = seen[2].record;
  EXPECT_TRUE(implicit.implicit);
  EXPECT_EQ(implicit.ring.domain_id, kA);  // resolved through the cable
  EXPECT_EQ(implicit.ring.aport, 80u);
  EXPECT_EQ(implicit.source.aport, 7u);
  EXPECT_EQ(implicit.xen_errno, 0);

  EXPECT_EQ(seen[3].record.xen_errno, XEN_ECONNREFUSED);
  EXPECT_EQ(seen[3].record.ring.aport, 99u);
  EXPECT_EQ(seen[3].record.ring_partner, XEN_ARGO_DOMID_ANY);
  EXPECT_EQ(seen[3].snapped, Bytes("nobody"));

  EXPECT_TRUE(seen[4].record.implicit);
  EXPECT_EQ(seen[4].record.xen_errno, XEN_ECONNREFUSED);
  EXPECT_EQ(seen[4].record.ring.domain_id, ARGO_DOMID_IMPLICIT);
}

TEST_F(TrafficTapTest, HostDeliveriesAreReportedAsSuch) {
  world_.hv->SetTrafficTap(&tap_);
  const std::string text = "from the parent";
  const MessagePart part{reinterpret_cast<const uint8_t*>(text.data()),
                         static_cast<uint32_t>(text.size())};
  HostMessage message{{9, ARGO_DOMID_PARENT, 0}, {80, kA, 0}, 11, {&part, 1}};
  ASSERT_EQ(world_.hv->DeliverFromHost(message),
            static_cast<int64_t>(text.size()));
  const std::vector<Seen> seen = tap_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].record.from_host);
  EXPECT_EQ(seen[0].record.source.domain_id, ARGO_DOMID_PARENT);
  EXPECT_EQ(seen[0].record.message_type, 11u);
  EXPECT_EQ(seen[0].record.ring_partner, XEN_ARGO_DOMID_ANY);
  EXPECT_EQ(seen[0].snapped, Bytes("from the"));
}

TEST_F(TrafficTapTest, ArgumentsThatCannotBeReadAreNoMessage) {
  world_.hv->SetTrafficTap(&tap_);
  EXPECT_EQ(b_->Op(XEN_ARGO_OP_sendv, 1ull << 40, 0, 0, 0), -XEN_EFAULT);
  EXPECT_TRUE(tap_.seen().empty());
}

}  // namespace
}  // namespace argo::testing
