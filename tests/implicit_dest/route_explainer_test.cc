// explain: each verdict a send could get, in sendv's order, and that it
// sends nothing and audits nothing.
#include "implicit_dest/route_explainer.h"


#include "gtest/gtest.h"
#include "tests/testing/runfiles.h"
#include "tests/testing/implicit_world.h"

namespace argo::testing {
namespace {

using implicit_dest::ExplainRoute;

constexpr domid_t kStorage = 1, kClient = 2, kOther = 3;

class RouteExplainerTest : public ::testing::Test {
 protected:
  RouteExplainerTest() : world_(StrictPolicyText()) {}
  void SetUp() override {
    world_.AddDomain(kStorage, "storage_t");
    world_.AddDomain(kClient, "client_t");
    world_.AddDomain(kOther, "client_t");
  }
  implicit_dest::RouteExplanation Explain(domid_t d, xen_argo_port_t p) {
    return ExplainRoute(*world_.hv, world_.table, world_.policy.get(), {d, p});
  }
  ImplicitWorld world_;
};

TEST_F(RouteExplainerTest, WalksSendvsDecisions) {
  EXPECT_EQ(Explain(9, 7).xen_errno, XEN_ESRCH);
  EXPECT_EQ(Explain(kClient, 7).xen_errno, XEN_ECONNREFUSED);
  EXPECT_EQ(Explain(kClient, 7).Describe(),
            "dom2:7 -> (not cabled)\n  verdict: ECONNREFUSED - dom2:7 is not "
            "cabled: connect it to a destination");

  ASSERT_TRUE(world_.table.Connect({kClient, 7}, {kStorage, 80}, false).ok());
  EXPECT_EQ(Explain(kClient, 7).xen_errno, XEN_ECONNREFUSED) << "no ring yet";

  RawGuest storage(world_.hv.get(), kStorage);
  ASSERT_EQ(
      storage.Register(80, XEN_ARGO_DOMID_ANY, 4096, RawGuest::Frames(4096)),
      0);
  auto ok = Explain(kClient, 7);
  EXPECT_EQ(ok.xen_errno, 0);
  ASSERT_TRUE(ok.ring.has_value());
  EXPECT_EQ(ok.ring->id.partner_id, XEN_ARGO_DOMID_ANY);
  EXPECT_EQ(
      ok.Describe(),
      "dom2:7 -> dom1:80\n  ring: dom1:80 (wildcard, len 4096, 4096 bytes "
      "free, 0 waiting)\n  verdict: delivered - up to 4064-byte messages; "
      "sends that do not fit now get EAGAIN and a wake-up");

  ASSERT_TRUE(world_.table.Connect({kClient, 8}, {kOther, 80}, false).ok());
  auto denied = Explain(kClient, 8);
  EXPECT_EQ(denied.xen_errno, XEN_EACCES);
  EXPECT_EQ(denied.reason,
            "policy: dom2 (client_t) lacks SEND to dom3 (client_t)");
  EXPECT_EQ(world_.policy->audit().total(), 0u) << "explain audits nothing";

  ASSERT_TRUE(
      world_.table.Connect({kClient, 9}, {ARGO_DOMID_PARENT, 1}, false).ok());
  EXPECT_EQ(Explain(kClient, 9).xen_errno, XEN_ENOSYS);
}

}  // namespace
}  // namespace argo::testing
