// A guest crash (ResetDomain, Xen's argo_soft_reset) against a domain
// destroy: both tear down the domain's Argo state exactly as teardown does
// — its rings and their waiters, the rings others registered naming it,
// its waits on others' wildcard rings — and wake every other domain that
// lost something. A reset keeps the domain, its memory and its generation;
// a destroy removes them.
#include <cstring>
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr uint32_t kLen = 4096;
constexpr uint64_t kMarkGpa = 0x50000;

class DomainResetTest : public ArgoFixture {
 protected:
  // A has: a unicast ring for B (port 1) with B waiting on it, a wildcard
  // ring (port 2); B has a unicast ring for A (port 3: a partner record in
  // A); C has a full wildcard ring (port 4) that A waits on; A's memory
  // holds a mark.
  void SetUp() override {
    ASSERT_EQ(a_->Register(1, kB, kLen, RawGuest::Frames(kLen, 0x100)), 0);
    ASSERT_EQ(a_->Register(2, XEN_ARGO_DOMID_ANY, kLen,
                           RawGuest::Frames(kLen, 0x110)),
              0);
    ASSERT_EQ(b_->Register(3, kA, kLen, RawGuest::Frames(kLen, 0x100)), 0);
    ASSERT_EQ(c_->Register(4, XEN_ARGO_DOMID_ANY, kLen,
                           RawGuest::Frames(kLen, 0x100)),
              0);
    const std::vector<uint8_t> big(3000, 7);
    ASSERT_EQ(b_->Send(9, kA, 1, big), 3000);
    ASSERT_EQ(b_->Send(9, kA, 1, big), -XEN_EAGAIN) << "B now waits on A:1";
    ASSERT_EQ(a_->Send(9, kC, 4, big), 3000);
    ASSERT_EQ(a_->Send(9, kC, 4, big), -XEN_EAGAIN) << "A now waits on C:4";
    ASSERT_EQ(hv_->GetDomainInfo(kA)->wildcard_waits, 1u);
    ASSERT_EQ(hv_->GetDomainInfo(kA)->partner_records, 1u);
    a_->PutBytes(kMarkGpa, {1, 2, 3, 4});
    generation_ = *hv_->DomainGeneration(kA);
    virqs_b_ = virqs_.Count(kB);
    virqs_c_ = virqs_.Count(kC);
  }

  // What every teardown of A must leave, whether A lives on or not.
  void ExpectArgoStateOfAGone() {
    for (const RingSnapshot& r : hv_->ListRings()) {
      EXPECT_NE(r.owner, kA) << "A's ring " << r.id.aport << " survived";
      EXPECT_NE(r.id.partner_id, kA) << "ring naming A survived";
      for (const PendingEnt& p : r.pending) EXPECT_NE(p.domid, kA);
    }
    EXPECT_EQ(b_->Unregister(3, kA), -XEN_ENOENT);
    EXPECT_EQ(hv_->GetDomainInfo(kB)->ring_count, 0u);
    EXPECT_EQ(RingOf(kC, 4).pending.size(), 0u) << "A's wildcard wait gone";
    // B lost its wait on A:1 and its ring naming A: one VIRQ. C lost
    // nothing that concerns it: none.
    EXPECT_EQ(virqs_.Count(kB), virqs_b_ + 1);
    EXPECT_EQ(virqs_.Count(kC), virqs_c_);
  }

  uint32_t generation_ = 0;
  uint64_t virqs_b_ = 0, virqs_c_ = 0;
};

TEST_F(DomainResetTest, CrashResetsArgoStateAndKeepsTheDomain) {
  ASSERT_TRUE(hv_->ResetDomain(kA).ok());
  ExpectArgoStateOfAGone();
  auto info = hv_->GetDomainInfo(kA);
  ASSERT_TRUE(info.ok()) << "the domain stays";
  EXPECT_EQ(info->ring_count, 0u);
  EXPECT_EQ(info->partner_records, 0u);
  EXPECT_EQ(info->wildcard_waits, 0u);
  EXPECT_TRUE(info->argo_enabled);
  EXPECT_EQ(*hv_->DomainGeneration(kA), generation_)
      << "same generation: its cables stay valid";
  EXPECT_EQ(a_->Get<uint32_t>(kMarkGpa), 0x04030201u) << "memory kept";
  // A new guest on the same domain starts afresh.
  ASSERT_EQ(a_->Register(1, kB, kLen, RawGuest::Frames(kLen, 0x200)), 0);
  EXPECT_EQ(b_->Send(9, kA, 1, std::vector<uint8_t>(10, 1)), 10);
  EXPECT_EQ(a_->Unregister(2, XEN_ARGO_DOMID_ANY), -XEN_ENOENT);
}

TEST_F(DomainResetTest, DestroyIsResetPlusRemoval) {
  ASSERT_TRUE(hv_->DestroyDomain(kA).ok());
  ExpectArgoStateOfAGone();
  EXPECT_FALSE(hv_->DomainExists(kA));
  EXPECT_FALSE(hv_->DomainGeneration(kA).ok());
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_notify, 0, 0, 0, 0), -XEN_ESRCH);
  AddDomain(kA);
  EXPECT_NE(*hv_->DomainGeneration(kA), generation_) << "a new domain";
}

TEST_F(DomainResetTest, ResetOfAMissingDomainIsNotFound) {
  EXPECT_EQ(hv_->ResetDomain(77).code(), absl::StatusCode::kNotFound);
}

TEST_F(DomainResetTest, RepeatedCrashesLeaveNothingBehind) {
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(a_->Register(1, kB, kLen, RawGuest::Frames(kLen, 0x100)), 0);
    ASSERT_EQ(b_->Register(3, kA, kLen, RawGuest::Frames(kLen, 0x100)), 0);
    ASSERT_TRUE(hv_->ResetDomain(kA).ok());
  }
  EXPECT_EQ(hv_->GetDomainInfo(kA)->ring_count, 0u);
  EXPECT_EQ(hv_->GetDomainInfo(kA)->partner_records, 0u);
  EXPECT_EQ(hv_->GetDomainInfo(kB)->ring_count, 0u);
}

}  // namespace
}  // namespace argo::testing
