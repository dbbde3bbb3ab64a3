// Conformance: the common hypercall checks and XEN_ARGO_OP_register_ring /
// unregister_ring, every error row of DESIGN §3.3 with its exact errno.
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr uint32_t kLen = 4096;

class RegisterTest : public ArgoFixture {};

// ---- Common checks ---------------------------------------------------------

TEST_F(RegisterTest, Arg3Or4Beyond32BitsIsEinvalForEveryCmd) {
  for (unsigned cmd : {1u, 2u, 3u, 4u, 77u}) {
    EXPECT_EQ(a_->Op(cmd, 0, 0, uint64_t{1} << 32, 0), -XEN_EINVAL) << cmd;
    EXPECT_EQ(a_->Op(cmd, 0, 0, 0, uint64_t{1} << 32), -XEN_EINVAL) << cmd;
  }
}

TEST_F(RegisterTest, UnknownCmdIsEopnotsupp) {
  for (unsigned cmd : {0u, 5u, 8u, 9u, 0xFFFFFFFFu}) {
    EXPECT_EQ(a_->Op(cmd, 0, 0, 0, 0), -XEN_EOPNOTSUPP) << cmd;
  }
}

class ArgoDisabled : public ArgoFixture {
 protected:
  ArgoDisabled() : ArgoFixture(HypervisorOptions{.argo_enabled = false}) {}
};

TEST_F(ArgoDisabled, EveryOpIsEopnotsuppButWideArgsStillEinval) {
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_notify, 0, 0, 0, 0), -XEN_EOPNOTSUPP);
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_sendv, 0, 0, 0, 0), -XEN_EOPNOTSUPP);
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_notify, 0, 0, uint64_t{1} << 40, 0),
            -XEN_EINVAL);
}

TEST_F(RegisterTest, PolicyEnableDenialIsReturnedBeforeCmdDispatch) {
  xsm_.enable_denied_for = kA;
  xsm_.enable_rc = -XEN_EACCES;
  EXPECT_EQ(a_->NotifyNull(), -XEN_EACCES);
  EXPECT_EQ(a_->Op(99, 0, 0, 0, 0), -XEN_EACCES);
  EXPECT_EQ(b_->NotifyNull(), 0);
}

// Straight into the hypervisor in both builds: a domain that does not
// exist has no token and cannot attach, so no transport can carry this.
TEST_F(RegisterTest, CallerThatIsNoDomainIsEsrch) {
  EXPECT_EQ(hv_->ArgoOp(42, XEN_ARGO_OP_notify, 0, 0, 0, 0), -XEN_ESRCH);
  EXPECT_EQ(hv_->ArgoOp(DOMID_SELF, XEN_ARGO_OP_notify, 0, 0, 0, 0),
            -XEN_ESRCH);
}

// ---- register_ring ---------------------------------------------------------

TEST_F(RegisterTest, RegistersUnicastAndWildcardRings) {
  EXPECT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  EXPECT_EQ(
      a_->Register(11, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen, 0x200)),
      0);
  EXPECT_EQ(RingCount(), 2u);
  RingSnapshot unicast = RingOf(kA, 10);
  EXPECT_EQ(unicast.id.partner_id, kB);
  EXPECT_EQ(unicast.len, kLen);
  EXPECT_EQ(unicast.tx_ptr, 0u);
}

TEST_F(RegisterTest, NpageAbove4096IsEinval) {
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_register_ring, kStructGpa, kGfnGpa, 4097, 0),
            -XEN_EINVAL);
}

TEST_F(RegisterTest, UnreadableGfnArrayIsEfault) {
  a_->Put(kStructGpa, xen_argo_register_ring_t{10, kB, 0, kLen});
  const uint64_t end = kFrames * kPageSize;
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_register_ring, kStructGpa, end - 8, 2, 0),
            -XEN_EFAULT);
  EXPECT_EQ(
      a_->Op(XEN_ARGO_OP_register_ring, kStructGpa, ~uint64_t{0} - 4, 2, 0),
      -XEN_EFAULT);
}

TEST_F(RegisterTest, GfnArrayIsCheckedBeforeFlags) {
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_register_ring, kStructGpa, kFrames * kPageSize,
                   2, 0x2),
            -XEN_EFAULT);
}

TEST_F(RegisterTest, UnknownFlagsAreEinval) {
  EXPECT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen), 0x2),
            -XEN_EINVAL);
  EXPECT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen), 0x80000000u),
            -XEN_EINVAL);
  EXPECT_EQ(RingCount(), 0u);
}

TEST_F(RegisterTest, UnreadableStructIsEfault) {
  EXPECT_EQ(
      a_->Op(XEN_ARGO_OP_register_ring, kFrames * kPageSize - 4, kGfnGpa, 2, 0),
      -XEN_EFAULT);
}

TEST_F(RegisterTest, BadLengthsAndPadAreEinval) {
  EXPECT_EQ(a_->Register(10, kB, 32, RawGuest::Frames(32)), -XEN_EINVAL);
  EXPECT_EQ(a_->Register(10, kB, 0, RawGuest::Frames(64)), -XEN_EINVAL);
  EXPECT_EQ(a_->Register(10, kB, kMaxRingSize + 16, RawGuest::Frames(4096)),
            -XEN_EINVAL);
  EXPECT_EQ(a_->Register(10, kB, 4100, RawGuest::Frames(4100)), -XEN_EINVAL);
  // npage must be exactly NPAGES_RING(len): too many and too few.
  std::vector<uint64_t> three = RawGuest::Frames(kLen);
  three.push_back(0x300);
  EXPECT_EQ(a_->Register(10, kB, kLen, three), -XEN_EINVAL);
  EXPECT_EQ(a_->Register(10, kB, kLen, {0x100}), -XEN_EINVAL);
  a_->Put(kStructGpa, xen_argo_register_ring_t{10, kB, 1, kLen});
  a_->Put(kGfnGpa, uint64_t{0x100});
  a_->Put(kGfnGpa + 8, uint64_t{0x101});
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_register_ring, kStructGpa, kGfnGpa, 2, 0),
            -XEN_EINVAL);
  EXPECT_EQ(RingCount(), 0u);
}

TEST_F(RegisterTest, SmallestAndLargestRegistrableRings) {
  EXPECT_EQ(a_->Register(10, kB, kMinRingSize, RawGuest::Frames(kMinRingSize)),
            0);
  // NPAGES_RING(16 MiB) is 4097 > 4096, so the largest registrable ring is
  // 16 MiB - 64 (as in Xen).
  EXPECT_EQ(a_->Register(11, kB, kMaxRingSize, RawGuest::Frames(kMaxRingSize)),
            -XEN_EINVAL);
  constexpr uint32_t kLargest = kMaxRingSize - 64;
  ASSERT_EQ(NpagesRing(kLargest), 4096u);
  EXPECT_EQ(a_->Register(11, kB, kLargest, RawGuest::Frames(kLargest, 0x400)),
            0);
}

class RegisterWildcardSwitch : public ArgoFixture {
 protected:
  RegisterWildcardSwitch()
      : ArgoFixture(HypervisorOptions{.wildcard_rings_permitted = false}) {}
};

TEST_F(RegisterWildcardSwitch, WildcardWhenNotPermittedIsEperm) {
  EXPECT_EQ(a_->Register(10, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen)),
            -XEN_EPERM);
  EXPECT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
}

TEST_F(RegisterTest, PolicyDenialsAreReturned) {
  xsm_.any_rc = -XEN_EACCES;
  EXPECT_EQ(a_->Register(10, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen)),
            -XEN_EACCES);
  xsm_.any_rc = 0;
  xsm_.single_rc = -XEN_EACCES;
  EXPECT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), -XEN_EACCES);
  EXPECT_EQ(RingCount(), 0u);
}

TEST_F(RegisterTest, MissingPartnerIsEsrchBeforePolicy) {
  xsm_.single_rc = -XEN_EACCES;
  EXPECT_EQ(a_->Register(10, 77, kLen, RawGuest::Frames(kLen)), -XEN_ESRCH);
  EXPECT_EQ(a_->Register(10, DOMID_SELF, kLen, RawGuest::Frames(kLen)),
            -XEN_ESRCH);
}

TEST_F(RegisterTest, CallerWithoutArgoIsEnodev) {
  AddDomain(9, /*argo=*/false);
  auto n = Guest(9);
  EXPECT_EQ(n->Register(10, kA, kLen, RawGuest::Frames(kLen)), -XEN_ENODEV);
  EXPECT_EQ(n->Register(10, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen)),
            -XEN_ENODEV);
}

TEST_F(RegisterTest, PartnerWithoutArgoIsEconnrefused) {
  AddDomain(9, /*argo=*/false);
  EXPECT_EQ(a_->Register(10, 9, kLen, RawGuest::Frames(kLen)),
            -XEN_ECONNREFUSED);
}

TEST_F(RegisterTest, The129thRingIsEnospc) {
  for (uint32_t port = 0; port < kMaxRingsPerDomain; ++port) {
    ASSERT_EQ(a_->Register(port, kB, kMinRingSize, {0x100 + port}), 0) << port;
  }
  EXPECT_EQ(a_->Register(500, kB, kMinRingSize, {0x300}), -XEN_ENOSPC);
  EXPECT_EQ(RingCount(), kMaxRingsPerDomain);
}

TEST_F(RegisterTest, FailExistOnExistingRingIsEexist) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  EXPECT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen, 0x200),
                         XEN_ARGO_REGISTER_FLAG_FAIL_EXIST),
            -XEN_EEXIST);
  // FAIL_EXIST on a ring that does not exist yet is fine.
  EXPECT_EQ(a_->Register(11, kB, kLen, RawGuest::Frames(kLen, 0x300),
                         XEN_ARGO_REGISTER_FLAG_FAIL_EXIST),
            0);
}

TEST_F(RegisterTest, ReRegistrationWithOtherLenIsEexist) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  EXPECT_EQ(a_->Register(10, kB, 2 * kLen, RawGuest::Frames(2 * kLen, 0x200)),
            -XEN_EEXIST);
  EXPECT_EQ(RingOf(kA, 10).len, kLen);
}

TEST_F(RegisterTest, GfnOutsideCallerMemoryIsEfault) {
  EXPECT_EQ(a_->Register(10, kB, kLen, {0x100, kFrames}), -XEN_EFAULT);
  EXPECT_EQ(a_->Register(10, kB, kLen, {~uint64_t{0}, 0x100}), -XEN_EFAULT);
  EXPECT_EQ(RingCount(), 0u);
}

TEST_F(RegisterTest, ExistenceChecksComeBeforeFrameChecks) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  EXPECT_EQ(a_->Register(10, kB, kLen, {0x100, kFrames},
                         XEN_ARGO_REGISTER_FLAG_FAIL_EXIST),
            -XEN_EEXIST);
}

TEST_F(RegisterTest, RingIdentityIncludesPartner) {
  EXPECT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  EXPECT_EQ(a_->Register(10, kC, kLen, RawGuest::Frames(kLen, 0x200)), 0);
  EXPECT_EQ(
      a_->Register(10, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen, 0x300)),
      0);
  EXPECT_EQ(RingCount(), 3u);
}

TEST_F(RegisterTest, ValidGuestTxIsAdopted) {
  auto frames = RawGuest::Frames(kLen);
  a_->Put(frames[0] * kPageSize + 4, uint32_t{160});  // tx_ptr
  a_->Put(frames[0] * kPageSize + 0, uint32_t{160});  // rx_ptr
  ASSERT_EQ(a_->Register(10, kB, kLen, frames), 0);
  EXPECT_EQ(RingOf(kA, 10).tx_ptr, 160u);
}

TEST_F(RegisterTest, BadGuestTxIsResetToRoundedRxAndWrittenBack) {
  auto frames = RawGuest::Frames(kLen);
  const uint64_t hdr = frames[0] * kPageSize;
  a_->Put(hdr + 0, uint32_t{33});  // rx_ptr, unaligned
  a_->Put(hdr + 4, uint32_t{7});   // tx_ptr, unaligned
  ASSERT_EQ(a_->Register(10, kB, kLen, frames), 0);
  EXPECT_EQ(RingOf(kA, 10).tx_ptr, 48u);
  EXPECT_EQ(a_->Get<uint32_t>(hdr + 4), 48u);
}

TEST_F(RegisterTest, GuestTxBeyondLenWithRxBeyondLenStartsAtZero) {
  auto frames = RawGuest::Frames(kLen, 0x200);
  const uint64_t hdr = frames[0] * kPageSize;
  a_->Put(hdr + 0, uint32_t{kLen - 8});  // rounds up to len
  a_->Put(hdr + 4, uint32_t{kLen});
  ASSERT_EQ(a_->Register(10, kB, kLen, frames), 0);
  EXPECT_EQ(RingOf(kA, 10).tx_ptr, 0u);
  EXPECT_EQ(a_->Get<uint32_t>(hdr + 4), 0u);
}

TEST_F(RegisterTest, ScatteredFramesFormOneRing) {
  // Frames in descending, non-contiguous order: the hypervisor's window
  // must present them in gfn-array order.
  std::vector<uint64_t> frames = {0x500, 0x1F0, 0x333};
  const uint32_t len = 3 * 4096 - 64;
  ASSERT_EQ(a_->Register(10, kB, len, frames), 0);
  std::vector<uint8_t> payload = Pattern(7, 9000);
  ASSERT_EQ(b_->Send(1, kA, 10, payload), 9000);
  // Bytes land at ring offset 16.. across the frames in array order: the
  // header is in frame 0x500 at 64, data at 80.., spilling into 0x1F0.
  RingView view = a_->View(frames, len);
  auto msg = view.reader->Read();
  ASSERT_TRUE(msg.ok());
  ASSERT_TRUE(msg->has_value());
  EXPECT_EQ((*msg)->payload, payload);
  EXPECT_EQ(a_->Get<uint8_t>(0x500 * kPageSize + 64 + 16), payload[0]);
  EXPECT_EQ(a_->Get<uint8_t>(0x1F0 * kPageSize), payload[4096 - 64 - 16]);
}

// ---- unregister_ring -------------------------------------------------------

TEST_F(RegisterTest, UnregisterRemovesTheExactRing) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  EXPECT_EQ(a_->Unregister(10, kC), -XEN_ENOENT);
  EXPECT_EQ(a_->Unregister(11, kB), -XEN_ENOENT);
  EXPECT_EQ(a_->Unregister(10, kB), 0);
  EXPECT_EQ(RingCount(), 0u);
  EXPECT_EQ(a_->Unregister(10, kB), -XEN_ENOENT);
}

TEST_F(RegisterTest, UnregisterWithExtraArgsIsEinval) {
  ASSERT_EQ(a_->Register(10, kB, kLen, RawGuest::Frames(kLen)), 0);
  a_->Put(kStructGpa, xen_argo_unregister_ring_t{10, kB, 0});
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_unregister_ring, kStructGpa, 8, 0, 0),
            -XEN_EINVAL);
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_unregister_ring, kStructGpa, 0, 1, 0),
            -XEN_EINVAL);
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_unregister_ring, kStructGpa, 0, 0, 1),
            -XEN_EINVAL);
  EXPECT_EQ(RingCount(), 1u);
}

TEST_F(RegisterTest, UnregisterUnreadableIsEfaultAndPadIsEinval) {
  EXPECT_EQ(
      a_->Op(XEN_ARGO_OP_unregister_ring, kFrames * kPageSize - 2, 0, 0, 0),
      -XEN_EFAULT);
  a_->Put(kStructGpa, xen_argo_unregister_ring_t{10, kB, 3});
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_unregister_ring, kStructGpa, 0, 0, 0),
            -XEN_EINVAL);
}

TEST_F(RegisterTest, UnregisterWithoutArgoIsEnodev) {
  AddDomain(9, /*argo=*/false);
  auto n = Guest(9);
  EXPECT_EQ(n->Unregister(10, kA), -XEN_ENODEV);
}

TEST_F(RegisterTest, UnregisterDropsPendingWaiters) {
  ASSERT_EQ(a_->Register(10, kB, kMinRingSize, {0x100}), 0);
  std::vector<uint8_t> payload = Pattern(1, 16);
  ASSERT_EQ(b_->Send(1, kA, 10, payload), 16);
  ASSERT_EQ(b_->Send(1, kA, 10, payload), -XEN_EAGAIN);
  EXPECT_EQ(RingOf(kA, 10).pending.size(), 1u);
  const uint64_t before = virqs_.Count(kB);
  ASSERT_EQ(a_->Unregister(10, kB), 0);
  // Re-register empty: the old waiter must not be woken.
  ASSERT_EQ(a_->Register(10, kB, kMinRingSize, {0x101}), 0);
  EXPECT_TRUE(RingOf(kA, 10).pending.empty());
  EXPECT_EQ(a_->NotifyNull(), 0);
  EXPECT_EQ(virqs_.Count(kB), before);
}

}  // namespace
}  // namespace argo::testing
