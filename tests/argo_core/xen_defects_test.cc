// Regression tests for Xen's known Argo defects (DESIGN §3.3) that this
// model deliberately does not copy; see the list in argo_core/hypervisor.h.
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr uint32_t kLen = 4096;

class XenDefectsTest : public ArgoFixture {
 protected:
  uint32_t PartnerRecords(domid_t d) {
    return hv_->GetDomainInfo(d)->partner_records;
  }
};

TEST_F(XenDefectsTest, ReRegistrationDoesNotInflateRingCount) {
  for (int i = 0; i < 3 * static_cast<int>(kMaxRingsPerDomain); ++i) {
    ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0) << i;
  }
  EXPECT_EQ(hv_->GetDomainInfo(kA)->ring_count, 1u);
  // The other 127 rings still fit; the 129th does not.
  for (uint32_t port = 100; port < 100 + kMaxRingsPerDomain - 1; ++port) {
    ASSERT_EQ(a_->Register(port, kB, kMinRingSize, {0x400 + port}), 0);
  }
  EXPECT_EQ(a_->Register(999, kB, kMinRingSize, {0x300}), -XEN_ENOSPC);
  // Re-registering an existing ring at the limit is still allowed.
  EXPECT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen, 0x200)), 0);
}

TEST_F(XenDefectsTest, ReRegistrationDoesNotDuplicatePartnerRecord) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen, 0x200)), 0);
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen, 0x300)), 0);
  EXPECT_EQ(PartnerRecords(kB), 1u);
  ASSERT_EQ(a_->Unregister(10, kB), 0);
  EXPECT_EQ(PartnerRecords(kB), 0u) << "no stale record left behind";
  // The partner's teardown has nothing left to act on (Xen would free the
  // stale record's ring id a second time here).
  ASSERT_TRUE(hv_->DestroyDomain(kB).ok());
  EXPECT_EQ(RingCount(), 0u);
}

TEST_F(XenDefectsTest, FailedReRegistrationKeepsTheExistingRing) {
  auto frames = RawGuest::Frames(kLen);
  ASSERT_EQ(a_->Register(10, kB, kLen, frames), 0);
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 100)), 100);
  EXPECT_EQ(a_->Register(10, kB, kLen, {0x100, kFrames + 5}), -XEN_EFAULT);
  RingSnapshot ring = RingOf(kA, 10);
  EXPECT_EQ(ring.tx_ptr, 128u);
  EXPECT_EQ(ring.counters.messages_in, 1u);
  EXPECT_EQ(PartnerRecords(kB), 1u);
  // The ring still works on its original frames.
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(2, 50)), 50);
  RingView view = a_->View(frames, kLen);
  ASSERT_TRUE(view.reader->Read().ok());
  auto second = view.reader->Read();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->payload, Pattern(2, 50));
}

TEST_F(XenDefectsTest, ReRegistrationKeepsTxAndWaiters) {
  auto old_frames = RawGuest::Frames(kLen);
  ASSERT_EQ(a_->Register(10, kB, kLen, old_frames), 0);
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 4000)), 4000);
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 100)), -XEN_EAGAIN);
  auto new_frames = RawGuest::Frames(kLen, 0x200);
  ASSERT_EQ(a_->Register(10, kB, kLen, new_frames), 0);
  RingSnapshot ring = RingOf(kA, 10);
  EXPECT_EQ(ring.tx_ptr, 4016u);
  EXPECT_EQ(ring.pending.size(), 1u);
  // tx is written into the new frames' header.
  EXPECT_EQ(a_->Get<uint32_t>(new_frames[0] * kPageSize + 4), 4016u);
}

TEST_F(XenDefectsTest, WildcardWaitTeardownWalksTheDyingDomainsList) {
  // B waits on two wildcard rings of A and C; A waits on C's ring too.
  ASSERT_EQ(a_->Register(10, XEN_ARGO_DOMID_ANY, kMinRingSize, {0x100}), 0);
  ASSERT_EQ(c_->Register(10, XEN_ARGO_DOMID_ANY, kMinRingSize, {0x100}), 0);
  ASSERT_EQ(c_->Send(1, kA, 10, Pattern(1, 16)), 16);
  ASSERT_EQ(a_->Send(1, kC, 10, Pattern(1, 16)), 16);
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 16)), -XEN_EAGAIN);
  ASSERT_EQ(b_->Send(1, kC, 10, Pattern(1, 16)), -XEN_EAGAIN);
  ASSERT_EQ(a_->Send(1, kC, 10, Pattern(1, 16)), -XEN_EAGAIN);
  EXPECT_EQ(hv_->GetDomainInfo(kB)->wildcard_waits, 2u);
  EXPECT_EQ(hv_->GetDomainInfo(kA)->wildcard_waits, 1u);

  ASSERT_TRUE(hv_->DestroyDomain(kB).ok());
  EXPECT_TRUE(RingOf(kA, 10).pending.empty());
  ASSERT_EQ(RingOf(kC, 10).pending.size(), 1u);
  EXPECT_EQ(RingOf(kC, 10).pending[0].domid, kA) << "A's wait is untouched";

  // A's own teardown then releases its wait on C's ring, and C's teardown
  // finds nothing stale (ASan would report a use after free).
  ASSERT_TRUE(hv_->DestroyDomain(kA).ok());
  EXPECT_TRUE(RingOf(kC, 10).pending.empty());
  ASSERT_TRUE(hv_->DestroyDomain(kC).ok());
}

TEST_F(XenDefectsTest, UnregisterReleasesWaitersWildcardRecords) {
  ASSERT_EQ(a_->Register(10, XEN_ARGO_DOMID_ANY, kMinRingSize, {0x100}), 0);
  ASSERT_EQ(c_->Send(1, kA, 10, Pattern(1, 16)), 16);
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 16)), -XEN_EAGAIN);
  ASSERT_EQ(hv_->GetDomainInfo(kB)->wildcard_waits, 1u);
  ASSERT_EQ(a_->Unregister(10, XEN_ARGO_DOMID_ANY), 0);
  EXPECT_EQ(hv_->GetDomainInfo(kB)->wildcard_waits, 0u);
  ASSERT_TRUE(hv_->DestroyDomain(kB).ok());
}

TEST_F(XenDefectsTest, SendvOnFullRingReturnsEagainNeverZero) {
  ASSERT_EQ(a_->Register(10, kB, kMinRingSize, {0x100}), 0);
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 16)), 16);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(b_->Send(1, kA, 10, Pattern(1, 16)), -XEN_EAGAIN);
  }
}

}  // namespace
}  // namespace argo::testing
