// The core's toolstack-facing observability: per-domain send/receive
// counters (surviving unregistration) and ring-change reports to the
// RingObserver — for register, unregister and teardown, never for a failed
// op or a re-registration.
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr uint32_t kLen = 4096;

class RecordingObserver final : public RingObserver {
 public:
  void OnRingChanges(absl::Span<const RingChange> changes) override {
    seen.insert(seen.end(), changes.begin(), changes.end());
  }
  std::vector<RingChange> seen;
};

class ObservabilityTest : public ArgoFixture {
 protected:
  ObservabilityTest() : ArgoFixture(Options()) {}
  // The hypervisor reports its final teardown: it goes before the observer.
  ~ObservabilityTest() override { hv_.reset(); }
  HypervisorOptions Options() {
    HypervisorOptions o;
    o.ring_observer = &observer_;
    return o;
  }
  DomainInfo Info(domid_t d) { return *hv_->GetDomainInfo(d); }

  RecordingObserver observer_;
};

TEST_F(ObservabilityTest, CountersFollowSendsAndSurviveUnregister) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  std::vector<uint8_t> payload = Pattern(1, 100);
  ASSERT_EQ(b_->Send(7, kA, 10, payload), 100);
  ASSERT_EQ(b_->Send(7, kA, 10, payload), 100);
  EXPECT_EQ(Info(kB).messages_sent, 2u);
  EXPECT_EQ(Info(kB).bytes_sent, 200u);
  EXPECT_EQ(Info(kA).messages_received, 2u);
  EXPECT_EQ(Info(kA).bytes_received, 200u);
  EXPECT_EQ(Info(kA).messages_sent, 0u);
  // A failed send counts nowhere but EAGAIN.
  EXPECT_EQ(b_->Send(7, kA, 99, payload), -XEN_ECONNREFUSED);
  EXPECT_EQ(Info(kB).messages_sent, 2u);
  // Fill the ring: the refusal is the sender's EAGAIN.
  std::vector<uint8_t> big = Pattern(2, 1000);
  int64_t rc = 0;
  while ((rc = b_->Send(7, kA, 10, big)) > 0) {
  }
  ASSERT_EQ(rc, -XEN_EAGAIN);
  EXPECT_EQ(Info(kB).eagain, 1u);
  const uint64_t received = Info(kA).messages_received;
  ASSERT_EQ(a_->Unregister(10, kB), 0);
  EXPECT_EQ(Info(kA).messages_received, received);
  EXPECT_EQ(Info(kA).ring_count, 0u);
}

TEST_F(ObservabilityTest, RingChangesAreReported) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  ASSERT_EQ(observer_.seen.size(), 1u);
  EXPECT_EQ(observer_.seen[0].owner, kA);
  EXPECT_EQ(observer_.seen[0].id.aport, 10u);
  EXPECT_EQ(observer_.seen[0].id.partner_id, kB);
  EXPECT_EQ(observer_.seen[0].len, kLen);
  EXPECT_TRUE(observer_.seen[0].registered);
  // Re-registration (same ring, new frames) and failures are not changes.
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  EXPECT_EQ(a_->Unregister(11, kB), -XEN_ENOENT);
  EXPECT_EQ(observer_.seen.size(), 1u);
  ASSERT_EQ(a_->Unregister(10, kB), 0);
  ASSERT_EQ(observer_.seen.size(), 2u);
  EXPECT_FALSE(observer_.seen[1].registered);
  EXPECT_EQ(observer_.seen[1].id.aport, 10u);
}

TEST_F(ObservabilityTest, TeardownReportsOwnAndPartnerRings) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  ASSERT_EQ(b_->Register(20, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen)),
            0);
  ASSERT_EQ(c_->Register(30, kA, kLen, RawGuest::Frames(kLen)), 0);
  observer_.seen.clear();
  ASSERT_TRUE(hv_->DestroyDomain(kA).ok());
  // A's own ring and C's ring naming A as partner; B's wildcard stays.
  ASSERT_EQ(observer_.seen.size(), 2u);
  EXPECT_EQ(observer_.seen[0].owner, kA);
  EXPECT_EQ(observer_.seen[1].owner, kC);
  EXPECT_EQ(observer_.seen[1].id.aport, 30u);
  for (const RingChange& c : observer_.seen) EXPECT_FALSE(c.registered);
}

}  // namespace
}  // namespace argo::testing
