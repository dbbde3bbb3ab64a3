// Conformance: XEN_ARGO_OP_notify (errors, flags, waits, wake-ups) and
// domain-destroy teardown (DESIGN §3.3).
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr uint32_t kLen = 4096;

xen_argo_ring_data_ent_t Query(domid_t d, xen_argo_port_t port,
                               uint32_t space_required = 0) {
  xen_argo_ring_data_ent_t ent = {};
  ent.ring = {port, d, 0};
  ent.space_required = space_required;
  ent.flags = 0xFFFF;  // garbage in: the hypervisor overwrites it
  return ent;
}

class NotifyTest : public ArgoFixture {
 protected:
  void SetUp() override {
    ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
    ASSERT_EQ(a_->Register(11, XEN_ARGO_DOMID_ANY, kLen,
                           RawGuest::Frames(kLen, 0x200)),
              0);
  }
};

TEST_F(NotifyTest, ExtraArgsAreEinval) {
  EXPECT_EQ(b_->Op(XEN_ARGO_OP_notify, 0, 8, 0, 0), -XEN_EINVAL);
  EXPECT_EQ(b_->Op(XEN_ARGO_OP_notify, 0, 0, 1, 0), -XEN_EINVAL);
  EXPECT_EQ(b_->Op(XEN_ARGO_OP_notify, 0, 0, 0, 1), -XEN_EINVAL);
}

TEST_F(NotifyTest, CallerWithoutArgoIsEnodev) {
  AddDomain(9, /*argo=*/false);
  auto n = Guest(9);
  EXPECT_EQ(n->NotifyNull(), -XEN_ENODEV);
}

TEST_F(NotifyTest, NullHandleReturnsZero) { EXPECT_EQ(b_->NotifyNull(), 0); }

TEST_F(NotifyTest, MoreThan256EntriesIsEacces) {
  std::vector<xen_argo_ring_data_ent_t> in(257, Query(kA, 10));
  EXPECT_EQ(b_->Notify(in, nullptr), -XEN_EACCES);
  in.resize(256);
  EXPECT_EQ(b_->Notify(in, nullptr), 0);
}

TEST_F(NotifyTest, UnreadableRingDataOrEntriesIsEfault) {
  EXPECT_EQ(b_->Op(XEN_ARGO_OP_notify, kFrames * kPageSize - 4, 0, 0, 0),
            -XEN_EFAULT);
  const uint64_t near_end = kFrames * kPageSize - 8 - 20;
  b_->Put(near_end, xen_argo_ring_data_t{2, 0});
  EXPECT_EQ(b_->Op(XEN_ARGO_OP_notify, near_end, 0, 0, 0), -XEN_EFAULT);
}

TEST_F(NotifyTest, MissingOrArgolessDestinationGivesZeroFlags) {
  AddDomain(9, /*argo=*/false);
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(b_->Notify({Query(99, 10), Query(9, 10), Query(kA, 12)}, &out), 0);
  for (const auto& ent : out) EXPECT_EQ(ent.flags, 0u);
}

TEST_F(NotifyTest, PolicySendDenialFailsTheWholeCall) {
  xsm_.send_rc = -XEN_EACCES;
  std::vector<xen_argo_ring_data_ent_t> out;
  EXPECT_EQ(b_->Notify({Query(kA, 10)}, &out), -XEN_EACCES);
  EXPECT_EQ(out[0].flags, 0xFFFF) << "a failed entry is not written back";
}

TEST_F(NotifyTest, EmptyUnicastRingReportsExistsEmptySufficient) {
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(b_->Notify({Query(kA, 10, 100)}, &out), 0);
  EXPECT_EQ(out[0].flags, XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_EMPTY |
                              XEN_ARGO_RING_SUFFICIENT);
  EXPECT_EQ(out[0].max_message_size, kLen - 32);
}

TEST_F(NotifyTest, WildcardRingIsShared) {
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(b_->Notify({Query(kA, 11)}, &out), 0);
  EXPECT_EQ(out[0].flags, XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_SHARED |
                              XEN_ARGO_RING_EMPTY | XEN_ARGO_RING_SUFFICIENT);
}

TEST_F(NotifyTest, UnachievableSizeIsEmsgsizeAndQueuesNothing) {
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(b_->Notify({Query(kA, 10, kLen - 31)}, &out), 0);
  EXPECT_EQ(out[0].flags, XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_EMSGSIZE |
                              XEN_ARGO_RING_EMPTY);
  EXPECT_TRUE(RingOf(kA, 10).pending.empty());
}

TEST_F(NotifyTest, InsufficientSpaceQueuesAWaitThatSpaceWakes) {
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 4000)), 4000);
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(b_->Notify({Query(kA, 10, 1000)}, &out), 0);
  EXPECT_EQ(out[0].flags, XEN_ARGO_RING_EXISTS);
  RingSnapshot ring = RingOf(kA, 10);
  ASSERT_EQ(ring.pending.size(), 1u);
  EXPECT_EQ(ring.pending[0].len, 1000u);

  const uint64_t before = virqs_.Count(kB);
  RingView view = a_->View(RawGuest::Frames(kLen), kLen);
  ASSERT_TRUE(view.reader->Read().ok());
  ASSERT_EQ(a_->NotifyNull(), 0);
  EXPECT_EQ(virqs_.Count(kB), before + 1);
  EXPECT_TRUE(RingOf(kA, 10).pending.empty());
}

TEST_F(NotifyTest, SufficientSpaceCancelsAnEarlierWait) {
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 4000)), 4000);
  ASSERT_EQ(b_->Send(1, kA, 10, Pattern(1, 200)), -XEN_EAGAIN);
  ASSERT_EQ(RingOf(kA, 10).pending.size(), 1u);
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(b_->Notify({Query(kA, 10, 16)}, &out), 0);
  EXPECT_EQ(out[0].flags, XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_SUFFICIENT);
  EXPECT_TRUE(RingOf(kA, 10).pending.empty());
}

TEST_F(NotifyTest, ThirtyThreeQueriersGetEbusyFlag) {
  ASSERT_EQ(b_->Send(1, kA, 11, Pattern(1, 4000)), 4000);
  for (domid_t d = 100; d < 100 + kMaxPendingPerRing; ++d) {
    AddDomain(d);
    auto g = Guest(d);
    std::vector<xen_argo_ring_data_ent_t> out;
    ASSERT_EQ(g->Notify({Query(kA, 11, 500)}, &out), 0);
    ASSERT_EQ(out[0].flags, XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_SHARED);
  }
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(c_->Notify({Query(kA, 11, 500)}, &out), 0);
  EXPECT_EQ(out[0].flags,
            XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_SHARED | XEN_ARGO_RING_EBUSY);
}

TEST_F(NotifyTest, EntriesAfterAFailureAreNotProcessed) {
  std::vector<xen_argo_ring_data_ent_t> out;
  xsm_.send_rc = -XEN_EACCES;
  ASSERT_EQ(b_->Notify({Query(99, 1), Query(kA, 10)}, &out), -XEN_EACCES);
  EXPECT_EQ(out[0].flags, 0u) << "first entry (no domain) was processed";
  EXPECT_EQ(out[1].flags, 0xFFFF);
}

// ---- Domain destroy ------------------------------------------------------

TEST_F(NotifyTest, DestroyRemovesOwnRingsAndPartnerRings) {
  ASSERT_EQ(b_->Register(20, kA, kLen, RawGuest::Frames(kLen)), 0);
  ASSERT_EQ(c_->Register(21, kA, kLen, RawGuest::Frames(kLen)), 0);
  ASSERT_EQ(c_->Register(22, kB, kLen, RawGuest::Frames(kLen, 0x200)), 0);
  ASSERT_EQ(RingCount(), 5u);
  ASSERT_TRUE(DestroyDomain(kA).ok());
  // A's two rings and the rings in B and C naming A are gone; C:22 stays.
  std::vector<RingSnapshot> rings = hv_->ListRings();
  ASSERT_EQ(rings.size(), 1u);
  EXPECT_EQ(rings[0].owner, kC);
  EXPECT_EQ(rings[0].id.aport, 22u);
  EXPECT_EQ(b_->Unregister(20, kA), -XEN_ENOENT);
  EXPECT_EQ(c_->Unregister(21, kA), -XEN_ENOENT);
  EXPECT_EQ(c_->Unregister(22, kB), 0);
}

TEST_F(NotifyTest, DestroyDropsTheDomainsWaitsOnOthersRings) {
  ASSERT_EQ(c_->Register(30, XEN_ARGO_DOMID_ANY, kMinRingSize, {0x100}), 0);
  ASSERT_EQ(a_->Send(1, kC, 30, Pattern(1, 16)), 16);
  ASSERT_EQ(b_->Send(1, kC, 30, Pattern(1, 16)), -XEN_EAGAIN);
  ASSERT_EQ(RingOf(kC, 30).pending.size(), 1u);
  ASSERT_TRUE(DestroyDomain(kB).ok());
  EXPECT_TRUE(RingOf(kC, 30).pending.empty());
  // The other domains go on unaffected.
  EXPECT_EQ(a_->Send(1, kC, 30, Pattern(1, 16)), -XEN_EAGAIN);
  EXPECT_EQ(RingOf(kC, 30).pending.size(), 1u);
}

TEST_F(NotifyTest, ReusedDomidStartsClean) {
  ASSERT_EQ(b_->Register(20, kA, kLen, RawGuest::Frames(kLen)), 0);
  ASSERT_TRUE(DestroyDomain(kA).ok());
  EXPECT_EQ(b_->Send(1, kA, 10, Pattern(1, 4)), -XEN_ESRCH);
  AddDomain(kA);
  auto a2 = Guest(kA);
  EXPECT_EQ(b_->Send(1, kA, 10, Pattern(1, 4)), -XEN_ECONNREFUSED);
  EXPECT_EQ(a2->Unregister(10, kB), -XEN_ENOENT);
  EXPECT_EQ(a2->Get<uint32_t>(0x100 * kPageSize), 0u) << "fresh memory";
  EXPECT_EQ(RingCount(), 0u) << "A's rings and B:20 (partner A) are gone";
}

TEST_F(NotifyTest, DestroyingUnknownDomainIsNotFound) {
  EXPECT_EQ(DestroyDomain(77).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace argo::testing
