// Conformance: XEN_ARGO_OP_sendv — every error row of DESIGN §3.3 and the
// bytes it leaves in the ring (header fields, lengths, padding, wrap, the
// free slot), waiters and VIRQs.
#include <cstring>
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr uint32_t kLen = 4096;

class SendvTest : public ArgoFixture {
 protected:
  void SetUp() override {
    frames_ = RawGuest::Frames(kLen);
    ASSERT_EQ(a_->Register(10, kB, kLen, frames_), 0);
  }
  uint32_t Tx() { return RingOf(kA, 10).tx_ptr; }
  // The ring bytes at data offset `at` in A's ring.
  template <typename T>
  T RingAt(uint32_t at) {
    return a_->Get<T>(frames_[0] * kPageSize + kRingHeaderSize + at);
  }
  void SetRx(uint32_t rx) { a_->Put(frames_[0] * kPageSize, rx); }
  void PutSendAddr(xen_argo_addr_t src, xen_argo_addr_t dst) {
    b_->Put(kStructGpa, xen_argo_send_addr_t{src, dst});
  }
  void PutIov(int i, uint64_t gpa, uint32_t len, uint32_t pad = 0) {
    xen_argo_iov_t iov = {};
    iov.iov_hnd.p = reinterpret_cast<uint8_t*>(gpa);
    iov.iov_len = len;
    iov.pad = pad;
    b_->Put(kIovGpa + i * sizeof(iov), iov);
  }
  int64_t RawSend(uint32_t niov, uint64_t type = 0) {
    return b_->Op(XEN_ARGO_OP_sendv, kStructGpa, kIovGpa, niov, type);
  }

  std::vector<uint64_t> frames_;
};

TEST_F(SendvTest, SendReturnsLengthWritesHeaderAndRaisesVirq) {
  std::vector<uint8_t> payload = Pattern(3, 21);
  const uint64_t virqs_before = virqs_.Count(kA);
  ASSERT_EQ(b_->Send(7, kA, 10, payload, 0xABCD1234), 21);
  EXPECT_EQ(virqs_.Count(kA), virqs_before + 1);
  auto header = RingAt<xen_argo_ring_message_header>(0);
  EXPECT_EQ(header.len, 21u + 16u);
  EXPECT_EQ(header.source.aport, 7u);
  EXPECT_EQ(header.source.domain_id, kB);
  EXPECT_EQ(header.source.pad, 0u);
  EXPECT_EQ(header.message_type, 0xABCD1234u);
  for (uint32_t i = 0; i < 21; ++i)
    EXPECT_EQ(RingAt<uint8_t>(16 + i), payload[i]);
  // tx is rounded to the next slot and published in the guest header.
  EXPECT_EQ(Tx(), 48u);
  EXPECT_EQ(a_->Get<uint32_t>(frames_[0] * kPageSize + 4), 48u);
}

TEST_F(SendvTest, ZeroLengthMessageTakesOneSlot) {
  ASSERT_EQ(b_->Send(7, kA, 10, {}, 5, /*niov=*/0), 0);
  EXPECT_EQ(Tx(), 16u);
  EXPECT_EQ(RingAt<uint32_t>(0), 16u);
}

TEST_F(SendvTest, EightIovsAreConcatenatedInOrder) {
  std::vector<uint8_t> payload = Pattern(4, 1001);
  ASSERT_EQ(b_->Send(7, kA, 10, payload, 0, /*niov=*/8), 1001);
  RingView view = a_->View(frames_, kLen);
  auto msg = view.reader->Read();
  ASSERT_TRUE(msg.ok() && msg->has_value());
  EXPECT_EQ((*msg)->payload, payload);
}

TEST_F(SendvTest, SrcDomidAnyIsStampedWithSender) {
  PutSendAddr({7, XEN_ARGO_DOMID_ANY, 0}, {10, kA, 0});
  PutIov(0, kDataGpa, 4);
  ASSERT_EQ(RawSend(1), 4);
  EXPECT_EQ(RingAt<xen_argo_ring_message_header>(0).source.domain_id, kB);
}

TEST_F(SendvTest, UnreadableSendAddrIsEfault) {
  EXPECT_EQ(b_->Op(XEN_ARGO_OP_sendv, kFrames * kPageSize - 8, kIovGpa, 0, 0),
            -XEN_EFAULT);
}

TEST_F(SendvTest, NiovAboveEightIsEinval) {
  PutSendAddr({7, kB, 0}, {10, kA, 0});
  EXPECT_EQ(RawSend(9), -XEN_EINVAL);
}

TEST_F(SendvTest, TypeBeyond32BitsIsEinval) {
  PutSendAddr({7, kB, 0}, {10, kA, 0});
  EXPECT_EQ(RawSend(0, uint64_t{1} << 32), -XEN_EINVAL);
}

TEST_F(SendvTest, UnreadableIovArrayIsEfault) {
  PutSendAddr({7, kB, 0}, {10, kA, 0});
  EXPECT_EQ(
      b_->Op(XEN_ARGO_OP_sendv, kStructGpa, kFrames * kPageSize - 16, 2, 0),
      -XEN_EFAULT);
}

TEST_F(SendvTest, AddressPadIsEinval) {
  PutIov(0, kDataGpa, 4);
  PutSendAddr({7, kB, 1}, {10, kA, 0});
  EXPECT_EQ(RawSend(1), -XEN_EINVAL);
  PutSendAddr({7, kB, 0}, {10, kA, 1});
  EXPECT_EQ(RawSend(1), -XEN_EINVAL);
}

TEST_F(SendvTest, SendingAsAnotherDomainIsEperm) {
  PutIov(0, kDataGpa, 4);
  PutSendAddr({7, kC, 0}, {10, kA, 0});
  EXPECT_EQ(RawSend(1), -XEN_EPERM);
  EXPECT_EQ(Tx(), 0u);
}

TEST_F(SendvTest, MissingDestinationIsEsrch) {
  EXPECT_EQ(b_->Send(7, 99, 10, Pattern(1, 4)), -XEN_ESRCH);
  EXPECT_EQ(b_->Send(7, XEN_ARGO_DOMID_ANY, 10, Pattern(1, 4)), -XEN_ESRCH);
}

TEST_F(SendvTest, PolicySendDenialIsReturned) {
  xsm_.send_rc = -XEN_EACCES;
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(1, 4)), -XEN_EACCES);
  EXPECT_EQ(Tx(), 0u);
}

TEST_F(SendvTest, SenderWithoutArgoIsEnodev) {
  AddDomain(9, /*argo=*/false);
  auto n = Guest(9);
  EXPECT_EQ(n->Send(7, kA, 10, Pattern(1, 4)), -XEN_ENODEV);
}

TEST_F(SendvTest, DestinationWithoutArgoOrRingIsEconnrefused) {
  AddDomain(9, /*argo=*/false);
  EXPECT_EQ(b_->Send(7, 9, 10, Pattern(1, 4)), -XEN_ECONNREFUSED);
  EXPECT_EQ(b_->Send(7, kA, 11, Pattern(1, 4)), -XEN_ECONNREFUSED);
  // A's ring on port 10 is for partner B only.
  EXPECT_EQ(c_->Send(7, kA, 10, Pattern(1, 4)), -XEN_ECONNREFUSED);
}

TEST_F(SendvTest, IovPadOrOversizeIovIsEinval) {
  PutSendAddr({7, kB, 0}, {10, kA, 0});
  PutIov(0, kDataGpa, 4, /*pad=*/1);
  EXPECT_EQ(RawSend(1), -XEN_EINVAL);
  PutIov(0, kDataGpa, kMaxMessageSize + 1);
  EXPECT_EQ(RawSend(1), -XEN_EINVAL);
}

TEST_F(SendvTest, ZeroLengthIovIsSkippedBeforeItsHandleIsChecked) {
  // Xen's ringbuf_insert skips an empty iov before guest_handle_okay: its
  // handle may be anything.
  PutSendAddr({7, kB, 0}, {10, kA, 0});
  PutIov(0, ~uint64_t{0}, 0);
  b_->PutBytes(kDataGpa, {9, 8, 7});
  PutIov(1, kDataGpa, 3);
  PutIov(2, uint64_t{1} << 60, 0);
  EXPECT_EQ(RawSend(3), 3);
  EXPECT_EQ(RingAt<uint8_t>(kMessageHeaderSize), 9);
  EXPECT_EQ(RingAt<uint8_t>(kMessageHeaderSize + 2), 7);
  // A non-empty iov with a bad handle is still EFAULT.
  PutIov(0, ~uint64_t{0}, 1);
  EXPECT_EQ(RawSend(3), -XEN_EFAULT);
}

TEST_F(SendvTest, RequeuedWaiterKeepsTheLargerSize) {
  // Xen's pending_requeue raises a waiter's size to max(old, new), so the
  // wake-up guarantees room for any one of its messages.
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 3000)), 3000);
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(2, 2000)), -XEN_EAGAIN);
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(3, 1500)), -XEN_EAGAIN);
  RingSnapshot ring = RingOf(kA, 10);
  ASSERT_EQ(ring.pending.size(), 1u);
  EXPECT_EQ(ring.pending[0].len, 2000u) << "not lowered to 1500";
  // The same rule for a notify query's space_required.
  xen_argo_ring_data_ent_t q = {};
  q.ring = {10, kA, 0};
  q.space_required = 1050;  // more than the 1040 bytes free: a wait
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(b_->Notify({q}, &out), 0);
  ring = RingOf(kA, 10);
  ASSERT_EQ(ring.pending.size(), 1u);
  EXPECT_EQ(ring.pending[0].len, 2000u);
}

TEST_F(SendvTest, TotalBeyondMaxMessageIsEmsgsize) {
  PutSendAddr({7, kB, 0}, {10, kA, 0});
  PutIov(0, kDataGpa, kMaxMessageSize);
  PutIov(1, kDataGpa, 1);
  EXPECT_EQ(RawSend(2), -XEN_EMSGSIZE);
}

TEST_F(SendvTest, MessageThatCanNeverFitIsEmsgsize) {
  // len <= 16 + roundup16(total) can never fit: 4080 and 4065 on 4096.
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(1, 4080)), -XEN_EMSGSIZE);
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(1, 4065)), -XEN_EMSGSIZE);
  EXPECT_EQ(Tx(), 0u);
  // len - 32 (notify's max_message_size) fits an empty ring exactly.
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(1, 4064)), 4064);
}

TEST_F(SendvTest, ExactFitStillLeavesOneSlotFree) {
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 4064)), 4064);
  EXPECT_EQ(Tx(), 4080u);
  // 16 bytes stay free: not even an empty message fits (16 >= 16).
  EXPECT_EQ(b_->Send(7, kA, 10, {}, 0, 0), -XEN_EAGAIN);
}

TEST_F(SendvTest, FullRingQueuesWaiterAndReturnsEagain) {
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 4000)), 4000);
  const uint32_t tx = Tx();
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(2, 100)), -XEN_EAGAIN);
  EXPECT_EQ(Tx(), tx);
  RingSnapshot ring = RingOf(kA, 10);
  ASSERT_EQ(ring.pending.size(), 1u);
  EXPECT_EQ(ring.pending[0].domid, kB);
  EXPECT_EQ(ring.pending[0].len, 100u);
  EXPECT_EQ(ring.counters.eagain, 1u);
  // A second EAGAIN updates the same entry rather than adding one.
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(2, 200)), -XEN_EAGAIN);
  ring = RingOf(kA, 10);
  ASSERT_EQ(ring.pending.size(), 1u);
  EXPECT_EQ(ring.pending[0].len, 200u);
}

TEST_F(SendvTest, ConsumingAndNotifyingWakesTheWaiterOnce) {
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 4000)), 4000);
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(2, 100)), -XEN_EAGAIN);
  const uint64_t before = virqs_.Count(kB);
  // Notify before consuming: no space yet, no wake-up.
  EXPECT_EQ(a_->NotifyNull(), 0);
  EXPECT_EQ(virqs_.Count(kB), before);
  RingView view = a_->View(frames_, kLen);
  ASSERT_TRUE(view.reader->Read().ok());
  EXPECT_EQ(a_->NotifyNull(), 0);
  EXPECT_EQ(virqs_.Count(kB), before + 1);
  EXPECT_TRUE(RingOf(kA, 10).pending.empty());
  // One-shot: a second notify does not wake again.
  EXPECT_EQ(a_->NotifyNull(), 0);
  EXPECT_EQ(virqs_.Count(kB), before + 1);
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(2, 100)), 100);
}

TEST_F(SendvTest, The33rdWaiterIsEbusy) {
  ASSERT_EQ(a_->Register(20, XEN_ARGO_DOMID_ANY, kMinRingSize, {0x300}), 0);
  ASSERT_EQ(b_->Send(7, kA, 20, Pattern(1, 16)), 16);
  std::vector<std::unique_ptr<RawGuest>> senders;
  for (domid_t d = 100; d < 100 + kMaxPendingPerRing; ++d) {
    AddDomain(d);
    senders.push_back(Guest(d));
    ASSERT_EQ(senders.back()->Send(7, kA, 20, Pattern(1, 16)), -XEN_EAGAIN);
  }
  EXPECT_EQ(c_->Send(7, kA, 20, Pattern(1, 16)), -XEN_EBUSY);
  EXPECT_EQ(RingOf(kA, 20).pending.size(), kMaxPendingPerRing);
  // A domain already waiting still gets EAGAIN (its entry is updated).
  EXPECT_EQ(senders[0]->Send(7, kA, 20, Pattern(1, 16)), -XEN_EAGAIN);
}

TEST_F(SendvTest, BadIovHandleIsEfaultAndNothingBecomesVisible) {
  PutSendAddr({7, kB, 0}, {10, kA, 0});
  PutIov(0, kDataGpa, 64);
  PutIov(1, kFrames * kPageSize - 10, 64);
  const uint64_t virqs_before = virqs_.Count(kA);
  EXPECT_EQ(RawSend(2), -XEN_EFAULT);
  EXPECT_EQ(Tx(), 0u);
  EXPECT_EQ(a_->Get<uint32_t>(frames_[0] * kPageSize + 4), 0u);
  EXPECT_EQ(virqs_.Count(kA), virqs_before);
  EXPECT_EQ(RingOf(kA, 10).counters.messages_in, 0u);
}

TEST_F(SendvTest, FullRingTakesPrecedenceOverBadIovHandle) {
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 4000)), 4000);
  PutSendAddr({7, kB, 0}, {10, kA, 0});
  PutIov(0, kFrames * kPageSize, 100);
  EXPECT_EQ(RawSend(1), -XEN_EAGAIN);
}

TEST_F(SendvTest, IovSplitsAcrossTailWrap) {
  // Move tx near the end: consume a message that ends at 4000.
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 3984)), 3984);
  ASSERT_EQ(Tx(), 4000u);
  SetRx(4000);  // the receiver consumed it
  std::vector<uint8_t> payload = Pattern(9, 200);
  ASSERT_EQ(b_->Send(7, kA, 10, payload, 0, 3), 200);
  // Header at 4000 (never wraps), payload 4016..4095 then 0..119.
  EXPECT_EQ(RingAt<uint32_t>(4000), 216u);
  for (uint32_t i = 0; i < 80; ++i)
    EXPECT_EQ(RingAt<uint8_t>(4016 + i), payload[i]);
  for (uint32_t i = 80; i < 200; ++i)
    EXPECT_EQ(RingAt<uint8_t>(i - 80), payload[i]);
  EXPECT_EQ(Tx(), 128u);
  RingView view = a_->View(frames_, kLen);
  auto msg = view.reader->Read();
  ASSERT_TRUE(msg.ok() && msg->has_value());
  EXPECT_EQ((*msg)->payload, payload);
  EXPECT_EQ(view.header()->rx_ptr, 128u);
}

TEST_F(SendvTest, HeaderAtLastSlotWrapsPayloadToStart) {
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 4048)), 4048);
  ASSERT_EQ(Tx(), 4064u);
  SetRx(4064);
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 16)), 16);
  // Header fills 4064..4079, payload 4080..4095: tx wraps to 0.
  EXPECT_EQ(Tx(), 0u);
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(2, 20)), 20);
  EXPECT_EQ(RingAt<uint32_t>(0), 36u);
}

TEST_F(SendvTest, HostileRxIsRoundedAndBounded) {
  SetRx(0xFFFFFFF0u);  // beyond len: treated as 0, so rx == tx: empty
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 100)), 100);
  ASSERT_EQ(Tx(), 128u);
  std::vector<uint8_t> unread(96);
  for (uint32_t i = 0; i < 96; ++i) unread[i] = RingAt<uint8_t>(32 + i);
  // rx 17 rounds to 32: free = 4096 - 128 + 32 = 4000, so a payload fits iff
  // roundup16(total) + 16 < 4000.
  SetRx(17);
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(1, 3984)), -XEN_EAGAIN);
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(1, 3969)), -XEN_EAGAIN);
  EXPECT_EQ(b_->Send(7, kA, 10, Pattern(1, 3968)), 3968);
  EXPECT_EQ(Tx(), 16u);
  // The bytes the receiver has not consumed yet ([32, 128)) are untouched.
  for (uint32_t i = 0; i < 96; ++i)
    EXPECT_EQ(RingAt<uint8_t>(32 + i), unread[i]);
}

TEST_F(SendvTest, UnicastRingIsChosenBeforeWildcard) {
  ASSERT_EQ(
      a_->Register(10, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen, 0x200)),
      0);
  ASSERT_EQ(b_->Send(7, kA, 10, Pattern(1, 8)), 8);
  ASSERT_EQ(c_->Send(7, kA, 10, Pattern(1, 8)), 8);
  for (const RingSnapshot& r : hv_->ListRings()) {
    EXPECT_EQ(r.counters.messages_in, 1u) << r.id.partner_id;
  }
  RingView wild = a_->View(RawGuest::Frames(kLen, 0x200), kLen);
  auto msg = wild.reader->Read();
  ASSERT_TRUE(msg.ok() && msg->has_value());
  EXPECT_EQ((*msg)->source.domain_id, kC);
}

TEST_F(SendvTest, SendToSelfWorks) {
  ASSERT_EQ(a_->Register(30, kA, kLen, RawGuest::Frames(kLen, 0x200)), 0);
  EXPECT_EQ(a_->Send(1, kA, 30, Pattern(1, 10)), 10);
}

TEST_F(SendvTest, MessagesArriveInSendOrder) {
  RingView view = a_->View(frames_, kLen);
  for (uint32_t round = 0; round < 50; ++round) {
    for (uint32_t i = 0; i < 5; ++i) {
      ASSERT_EQ(b_->Send(i, kA, 10, Pattern(round * 5 + i, 100 + i), round),
                100 + i);
    }
    for (uint32_t i = 0; i < 5; ++i) {
      auto msg = view.reader->Read();
      ASSERT_TRUE(msg.ok() && msg->has_value());
      EXPECT_EQ((*msg)->source.aport, i);
      EXPECT_EQ((*msg)->message_type, round);
      EXPECT_EQ((*msg)->payload, Pattern(round * 5 + i, 100 + i));
    }
    EXPECT_EQ(view.reader->BytesAvailable(), 0u);
  }
}

}  // namespace
}  // namespace argo::testing
