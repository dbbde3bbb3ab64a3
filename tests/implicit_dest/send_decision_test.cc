// explain and sendv make one decision: for every way an implicit send can
// be refused (and for delivery), the toolstack's explain names the errno
// the send then returns. explain used to re-implement sendv's checks and
// drifted (a sender without Argo was "delivered" where sendv said ENODEV);
// both now run Hypervisor's one DecideRoute.
#include <functional>
#include <string>
#include <vector>

#include "argo_core/argo_limits.h"
#include "argo_core/send_probe.h"
#include "gtest/gtest.h"
#include "implicit_dest/route_explainer.h"
#include "tests/testing/implicit_world.h"
#include "tests/testing/runfiles.h"

namespace argo::testing {
namespace {

constexpr domid_t kStorage = 1, kClient = 2, kOther = 3, kDom0 = 4;
constexpr xen_argo_port_t kSrc = 7, kRing = 80;
constexpr uint32_t kLen = 4096;

struct Row {
  std::string name;
  // Sets the scene in a fresh level (strict policy; storage, a client, a
  // second client and dom0 exist; the client's port 7 is not cabled).
  std::function<void(ImplicitWorld&)> setup;
  uint32_t payload;
  int want_errno;  // 0: delivered
  SendCheck want_check;
};

// Re-creates domain `d` (same label) without Argo.
void WithoutArgo(ImplicitWorld& w, domid_t d, const char* label) {
  ASSERT_TRUE(w.level->DestroyDomain(d).ok());
  ASSERT_TRUE(
      w.level->CreateDomain(d, DomainConfig{8192, false}, label).ok());
}

void CableToStorageRing(ImplicitWorld& w) {
  ASSERT_TRUE(w.table.Connect({kClient, kSrc}, {kStorage, kRing}, false).ok());
  ASSERT_EQ(w.Guest(kStorage).Register(kRing, XEN_ARGO_DOMID_ANY, kLen,
                                       RawGuest::Frames(kLen)),
            0);
}

std::vector<Row> Rows() {
  return {
      {"sender missing", [](ImplicitWorld& w) {
         ASSERT_TRUE(w.level->DestroyDomain(kClient).ok());
       }, 8, XEN_ESRCH, SendCheck::kCaller},
      {"enable denied", [](ImplicitWorld& w) {
         ASSERT_TRUE(w.policy
                         ->Load(StrictPolicyText() + "types: \"jail_t\"\n",
                                "jail")
                         .ok());
         ASSERT_TRUE(w.policy->Relabel(kClient, "jail_t").ok());
       }, 8, XEN_EACCES, SendCheck::kEnable},
      {"not cabled", [](ImplicitWorld&) {}, 8, XEN_ECONNREFUSED,
       SendCheck::kImplicit},
      {"cabled to the parent", [](ImplicitWorld& w) {
         ASSERT_TRUE(
             w.table.Connect({kClient, kSrc}, {ARGO_DOMID_PARENT, 3}, false)
                 .ok());
       }, 8, XEN_ENOSYS, SendCheck::kImplicit},
      {"destination destroyed", [](ImplicitWorld& w) {
         CableToStorageRing(w);
         // The cable dies with its destination; a re-created domid
         // inherits nothing.
         ASSERT_TRUE(w.level->DestroyDomain(kStorage).ok());
         w.AddDomain(kStorage, "storage_t");
       }, 8, XEN_ECONNREFUSED, SendCheck::kImplicit},
      {"policy: no SEND to a client", [](ImplicitWorld& w) {
         ASSERT_TRUE(
             w.table.Connect({kClient, kSrc}, {kOther, kRing}, false).ok());
       }, 8, XEN_EACCES, SendCheck::kPolicy},
      {"sender without Argo", [](ImplicitWorld& w) {
         WithoutArgo(w, kClient, "client_t");
         CableToStorageRing(w);
       }, 8, XEN_ENODEV, SendCheck::kSenderArgo},
      {"destination without Argo", [](ImplicitWorld& w) {
         WithoutArgo(w, kStorage, "storage_t");
         ASSERT_TRUE(
             w.table.Connect({kClient, kSrc}, {kStorage, kRing}, false).ok());
       }, 8, XEN_ECONNREFUSED, SendCheck::kDestinationArgo},
      {"no ring on the port", [](ImplicitWorld& w) {
         ASSERT_TRUE(
             w.table.Connect({kClient, kSrc}, {kStorage, kRing}, false).ok());
       }, 8, XEN_ECONNREFUSED, SendCheck::kRing},
      {"a unicast ring for another sender only", [](ImplicitWorld& w) {
         ASSERT_TRUE(
             w.table.Connect({kClient, kSrc}, {kStorage, kRing}, false).ok());
         ASSERT_EQ(w.Guest(kStorage).Register(kRing, kOther, kLen,
                                              RawGuest::Frames(kLen)),
                   0);
       }, 8, XEN_ECONNREFUSED, SendCheck::kRing},
      {"never fits the ring", CableToStorageRing, MaxPayloadForRing(kLen) + 1,
       XEN_EMSGSIZE, SendCheck::kFits},
      {"over the largest message", CableToStorageRing, kMaxMessageSize + 1,
       XEN_EINVAL, SendCheck::kFits},
      {"ring full now", [](ImplicitWorld& w) {
         CableToStorageRing(w);
         const std::vector<uint8_t> big(2000, 1);
         RawGuest client = w.Guest(kClient);
         ASSERT_EQ(ImplicitWorld::SendImplicit(client, kSrc, big), 2000);
         ASSERT_EQ(ImplicitWorld::SendImplicit(client, kSrc, big), 2000);
       }, 100, XEN_EAGAIN, SendCheck::kSpace},
      {"delivered", CableToStorageRing, 100, 0, SendCheck::kDelivered},
  };
}

TEST(SendDecisionTest, ExplainAndSendvAgreeOnEveryRow) {
  for (const Row& row : Rows()) {
    SCOPED_TRACE(row.name);
    ImplicitWorld w(StrictPolicyText());
    w.AddDomain(kStorage, "storage_t");
    w.AddDomain(kClient, "client_t");
    w.AddDomain(kOther, "client_t");
    w.AddDomain(kDom0, "dom0_t");
    row.setup(w);
    if (::testing::Test::HasFatalFailure()) return;

    const uint64_t audited = w.policy->audit().total();
    const implicit_dest::RouteExplanation e =
        w.level->Explain({kClient, kSrc}, row.payload);
    EXPECT_EQ(e.xen_errno, row.want_errno) << e.Describe();
    EXPECT_EQ(e.decided_by, row.want_check)
        << SendCheckName(e.decided_by) << ": " << e.Describe();
    EXPECT_FALSE(e.reason.empty());
    EXPECT_EQ(w.policy->audit().total(), audited) << "explain audits nothing";

    // The send itself. Sizes past what guest memory holds are sent as one
    // iov whose length is all that matters (the checks come first).
    int64_t rc;
    if (!w.hv->DomainExists(kClient)) {  // no memory to lay arguments in
      rc = w.hv->ArgoOp(kClient, XEN_ARGO_OP_sendv, kStructGpa, kIovGpa, 1, 0);
      EXPECT_EQ(rc, -row.want_errno);
      continue;
    }
    RawGuest client(w.hv.get(), kClient);
    if (row.payload > 64 * 1024) {
      xen_argo_send_addr_t addr{{kSrc, kClient, 0},
                                {0, ARGO_DOMID_IMPLICIT, 0}};
      xen_argo_iov_t iov = {};
      iov.iov_hnd.p = reinterpret_cast<uint8_t*>(kDataGpa);
      iov.iov_len = row.payload;
      client.Put(kStructGpa, addr);
      client.Put(kIovGpa, iov);
      rc = client.Op(XEN_ARGO_OP_sendv, kStructGpa, kIovGpa, 1, 0);
    } else {
      rc = ImplicitWorld::SendImplicit(
          client, kSrc, std::vector<uint8_t>(row.payload, 0x5a));
    }
    EXPECT_EQ(rc, row.want_errno == 0 ? static_cast<int64_t>(row.payload)
                                      : -row.want_errno);
  }
}

}  // namespace
}  // namespace argo::testing
