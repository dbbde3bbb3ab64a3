// Delivery from host buffers (what a nesting level's forwarder does with
// a message that came from its parent): the same ring choice, checks,
// whole-or-absent insertion, counters and VIRQ as sendv.
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr uint32_t kLen = 4096;
constexpr xen_argo_addr_t kFromParent{5, ARGO_DOMID_PARENT, 0};

class HostDeliveryTest : public ArgoFixture {
 protected:
  int64_t Deliver(xen_argo_addr_t source, xen_argo_addr_t dst,
                  const std::vector<std::vector<uint8_t>>& pieces,
                  uint32_t type = 0) {
    std::vector<MessagePart> parts;
    for (const auto& p : pieces) {
      parts.push_back({p.data(), static_cast<uint32_t>(p.size())});
    }
    return hv_->DeliverFromHost(HostMessage{source, dst, type, parts});
  }
};

TEST_F(HostDeliveryTest, DeliversIntoTheWildcardRingWithTheGivenSource) {
  const auto gfns = RawGuest::Frames(kLen);
  ASSERT_EQ(a_->Register(1, XEN_ARGO_DOMID_ANY, kLen, gfns), 0);
  RingView view = a_->View(gfns, kLen);
  const uint64_t virqs = virqs_.Count(kA);
  const std::vector<uint8_t> head = Pattern(1, 700), tail = Pattern(2, 33);
  ASSERT_EQ(Deliver(kFromParent, {1, kA, 0}, {head, {}, tail}, 42), 733);
  EXPECT_EQ(virqs_.Count(kA), virqs + 1);
  auto m = view.reader->Read();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->source.domain_id, ARGO_DOMID_PARENT);
  EXPECT_EQ((*m)->source.aport, 5u);
  EXPECT_EQ((*m)->message_type, 42u);
  std::vector<uint8_t> want = head;
  want.insert(want.end(), tail.begin(), tail.end());
  EXPECT_EQ((*m)->payload, want);
  EXPECT_EQ(RingOf(kA, 1).counters.messages_in, 1u);
}

TEST_F(HostDeliveryTest, RefusesAsSendvDoes) {
  const std::vector<uint8_t> small(16, 1);
  EXPECT_EQ(Deliver(kFromParent, {1, 99, 0}, {small}), -XEN_ESRCH);
  EXPECT_EQ(Deliver(kFromParent, {1, kA, 0}, {small}), -XEN_ECONNREFUSED)
      << "no ring";
  // A unicast ring for B is not for a message from the parent.
  ASSERT_EQ(a_->Register(2, kB, kLen, RawGuest::Frames(kLen, 0x100)), 0);
  EXPECT_EQ(Deliver(kFromParent, {2, kA, 0}, {small}), -XEN_ECONNREFUSED);
  // ...but is for one stamped as from B (the unicast match).
  EXPECT_EQ(Deliver({0, kB, 0}, {2, kA, 0}, {small}), 16);
  EXPECT_EQ(Deliver(kFromParent, {2, kA, 1}, {small}), -XEN_EINVAL) << "pad";
  AddDomain(20, /*argo=*/false);
  EXPECT_EQ(Deliver(kFromParent, {1, 20, 0}, {small}), -XEN_ECONNREFUSED);
  std::vector<std::vector<uint8_t>> nine(9, small);
  EXPECT_EQ(Deliver({0, kB, 0}, {2, kA, 0}, nine), -XEN_EINVAL);
}

TEST_F(HostDeliveryTest, FullRingIsEagainWithNothingWrittenAndNoWaiter) {
  ASSERT_EQ(a_->Register(1, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen)),
            0);
  const std::vector<uint8_t> big(MaxPayloadForRing(kLen) + 1, 3);
  EXPECT_EQ(Deliver(kFromParent, {1, kA, 0}, {big}), -XEN_EMSGSIZE);
  const std::vector<uint8_t> chunk(2000, 4);
  ASSERT_EQ(Deliver(kFromParent, {1, kA, 0}, {chunk}), 2000);
  ASSERT_EQ(Deliver(kFromParent, {1, kA, 0}, {chunk}), 2000);
  const RingSnapshot before = RingOf(kA, 1);
  EXPECT_EQ(Deliver(kFromParent, {1, kA, 0}, {chunk}), -XEN_EAGAIN);
  const RingSnapshot after = RingOf(kA, 1);
  EXPECT_EQ(after.tx_ptr, before.tx_ptr);
  EXPECT_TRUE(after.pending.empty()) << "a host sender never waits";
  EXPECT_EQ(after.counters.eagain, before.counters.eagain + 1);
}

}  // namespace
}  // namespace argo::testing
