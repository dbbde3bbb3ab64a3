// libargo_guest over the in-process port: the typed API carries Xen errnos
// in its statuses and lays arguments out in guest memory.
#include "argo_core/guest/argo_guest.h"
#include "argo_core/guest/in_process_port.h"

#include <memory>
#include <vector>

#include "argo_core/argo_limits.h"
#include "argo_core/virq_recorder.h"
#include "argo_core/xen_status.h"
#include "gtest/gtest.h"

namespace argo {
namespace {

class ArgoGuestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (domid_t d : {1, 2}) {
      ASSERT_TRUE(hv_.CreateDomain(d, DomainConfig{1024, true}).ok());
      ports_.push_back(std::make_unique<InProcessPort>(&hv_, d));
      auto guest =
          ArgoGuest::Create(ports_.back().get(), hv_.DomainMemory(d), d);
      ASSERT_TRUE(guest.ok());
      guests_.push_back(*std::move(guest));
    }
  }
  ArgoGuest& a() { return *guests_[0]; }
  ArgoGuest& b() { return *guests_[1]; }

  VirqRecorder virqs_;
  Hypervisor hv_{HypervisorOptions{}, &virqs_};
  std::vector<std::unique_ptr<InProcessPort>> ports_;
  std::vector<std::unique_ptr<ArgoGuest>> guests_;
};

TEST_F(ArgoGuestTest, SendAndReadRoundTrip) {
  auto ring = a().RegisterRing(10, 2, 8192);
  ASSERT_TRUE(ring.ok()) << ring.status();
  const std::vector<uint8_t> p1 = {1, 2, 3}, p2 = {4, 5};
  const absl::Span<const uint8_t> parts[] = {p1, p2};
  auto sent = b().Sendv(7, xen_argo_addr_t{10, 1, 0}, parts, 99);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 5u);
  EXPECT_EQ(virqs_.Count(1), 1u);
  auto msg = (*ring)->Read();
  ASSERT_TRUE(msg.ok() && msg->has_value());
  EXPECT_EQ((*msg)->payload, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ((*msg)->source.domain_id, 2);
  EXPECT_EQ((*msg)->source.aport, 7u);
  EXPECT_EQ((*msg)->message_type, 99u);
}

TEST_F(ArgoGuestTest, ErrorsCarryXenErrnos) {
  auto refused = b().Send(7, xen_argo_addr_t{10, 1, 0}, {}, 0);
  EXPECT_EQ(XenErrnoOf(refused.status()), XEN_ECONNREFUSED);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  auto bad_len = a().RegisterRing(10, 2, 100);
  EXPECT_EQ(XenErrnoOf(bad_len.status()), XEN_EINVAL);
  ASSERT_TRUE(a().RegisterRing(10, 2, 4096).ok());
  auto again = a().RegisterRing(10, 2, 4096, XEN_ARGO_REGISTER_FLAG_FAIL_EXIST);
  EXPECT_EQ(XenErrnoOf(again.status()), XEN_EEXIST);
  std::vector<uint8_t> big(70000);
  auto too_big = b().Send(7, xen_argo_addr_t{10, 1, 0}, big, 0);
  EXPECT_EQ(XenErrnoOf(too_big.status()), XEN_EMSGSIZE);
  std::vector<RingQuery> many(257);
  EXPECT_EQ(XenErrnoOf(b().Notify(many).status()), XEN_EACCES);
}

TEST_F(ArgoGuestTest, NotifyQueriesAndUnregister) {
  auto ring = a().RegisterRing(10, XEN_ARGO_DOMID_ANY, 4096);
  ASSERT_TRUE(ring.ok());
  auto ents =
      b().Notify({RingQuery{{10, 1, 0}, 100}, RingQuery{{11, 1, 0}, 0}});
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ((*ents)[0].flags, XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_SHARED |
                                  XEN_ARGO_RING_EMPTY |
                                  XEN_ARGO_RING_SUFFICIENT);
  EXPECT_EQ((*ents)[0].max_message_size, 4096u - 32);
  EXPECT_EQ((*ents)[1].flags, 0u);
  EXPECT_TRUE(a().UnregisterRing(*ring).ok());
  EXPECT_TRUE(hv_.ListRings().empty());
  EXPECT_FALSE(a().UnregisterRing(nullptr).ok());
}

TEST_F(ArgoGuestTest, RingFramesAreReturnedOnUnregister) {
  // 1024 frames minus 1 + 12 + 16 reserved: rings of ~1 MiB can be
  // registered and unregistered forever without running out.
  for (int i = 0; i < 50; ++i) {
    auto ring = a().RegisterRing(10, 2, 900 * 1024);
    ASSERT_TRUE(ring.ok()) << i << ring.status();
    ASSERT_TRUE(a().UnregisterRing(*ring).ok());
  }
}

TEST(ArgoGuestCreate, RefusesMemoryTooSmallForItsLayout) {
  VirqRecorder virqs;
  Hypervisor hv(HypervisorOptions{}, &virqs);
  ASSERT_TRUE(hv.CreateDomain(1, DomainConfig{20, true}).ok());
  InProcessPort port(&hv, 1);
  EXPECT_FALSE(ArgoGuest::Create(&port, hv.DomainMemory(1), 1).ok());
}

}  // namespace
}  // namespace argo
