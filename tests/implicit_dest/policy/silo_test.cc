// SILO mode (issue 10) through the hypervisor's hooks: between two
// different domains a send or a single-source ring needs a capability on
// one side; allow rules still apply on top; capabilities are given at
// creation only and go with their domain.
#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"
#include "implicit_dest/policy/capabilities.h"
#include "tests/testing/implicit_world.h"
#include "tests/testing/runfiles.h"

namespace argo::testing {
namespace {

using policy::kCapControl;
using policy::kCapXenstore;

constexpr domid_t kControl = 0, kXenstore = 1, kDomU1 = 2, kDomU2 = 3;
constexpr uint32_t kLen = 4096;

class SiloTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.policy
                    ->Load(ReadRunfile("implicit_dest/policy/silo.textproto"),
                           "silo.textproto")
                    .ok());
    Create(kControl, kCapControl);
    Create(kXenstore, kCapXenstore);
    Create(kDomU1, 0);
    Create(kDomU2, 0);
    for (domid_t d : {kControl, kXenstore, kDomU1, kDomU2}) {
      guests_.push_back(std::make_unique<RawGuest>(world_.hv.get(), d));
      ASSERT_EQ(G(d).Register(80, XEN_ARGO_DOMID_ANY, kLen,
                              RawGuest::Frames(kLen)),
                0);
    }
  }
  void Create(domid_t d, uint8_t caps) {
    ASSERT_TRUE(
        world_.level->CreateDomain(d, DomainConfig{8192, true}, {}, caps).ok());
  }
  RawGuest& G(domid_t d) { return *guests_[d]; }
  int64_t Send(domid_t from, domid_t to) {
    return G(from).Send(9, to, 80, Pattern(1, 8));
  }

  ImplicitWorld world_;
  std::vector<std::unique_ptr<RawGuest>> guests_;
};

TEST_F(SiloTest, DomUsTalkOnlyToServiceDomainsBothWays) {
  EXPECT_EQ(Send(kDomU1, kDomU2), -XEN_EACCES);
  EXPECT_EQ(Send(kDomU2, kDomU1), -XEN_EACCES);
  EXPECT_EQ(Send(kDomU1, kControl), 8);
  EXPECT_EQ(Send(kControl, kDomU1), 8);
  EXPECT_EQ(Send(kDomU2, kXenstore), 8);
  EXPECT_EQ(Send(kXenstore, kDomU2), 8);
  EXPECT_EQ(Send(kControl, kXenstore), 8);
  // A domain may always talk to itself.
  EXPECT_EQ(Send(kDomU1, kDomU1), 8);
  const auto denials = world_.policy->audit().Recent();
  ASSERT_EQ(denials.size(), 2u);
  EXPECT_TRUE(denials[0].silo);
  EXPECT_EQ(denials[0].Describe(),
            "dom2 (domain_t) -> dom3 (domain_t): SEND denied by SILO "
            "mode (sendv/notify)");
  EXPECT_EQ(world_.policy->audit().CountsByPermission().at("SILO"), 2u);
}

TEST_F(SiloTest, ImplicitSendsAndWildcardRingsAreHeldToItToo) {
  ASSERT_TRUE(world_.table.Connect({kDomU1, 7}, {kDomU2, 80}, false).ok());
  ASSERT_TRUE(world_.table.Connect({kDomU1, 8}, {kXenstore, 80}, false).ok());
  // Every ring here is a wildcard ring: SILO is per send, not per ring.
  EXPECT_EQ(ImplicitWorld::SendImplicit(G(kDomU1), 7, Pattern(1, 8)),
            -XEN_EACCES);
  EXPECT_EQ(ImplicitWorld::SendImplicit(G(kDomU1), 8, Pattern(1, 8)), 8);
}

TEST_F(SiloTest, SingleSourceRingsNeedACapabilityOnOneSide) {
  EXPECT_EQ(G(kDomU1).Register(81, kDomU2, kLen, RawGuest::Frames(kLen, 64)),
            -XEN_EACCES);
  EXPECT_EQ(G(kDomU1).Register(81, kControl, kLen, RawGuest::Frames(kLen, 64)),
            0);
  EXPECT_EQ(G(kControl).Register(81, kDomU1, kLen, RawGuest::Frames(kLen, 64)),
            0);
}

TEST_F(SiloTest, RulesStillApplyOnTop) {
  // A SILO policy whose rules forbid explicit sends: a capability does not
  // add what the rules do not grant.
  ASSERT_TRUE(world_.policy
                  ->Load(R"pb(
                           types: "domain_t"
                           default_type: "domain_t"
                           mac_permissive: true
                           silo: true
                           allow {
                             source: "*"
                             target: "*"
                             permissions: [
                               ENABLE,
                               REGISTER_SINGLE_SOURCE,
                               REGISTER_ANY_SOURCE,
                               SEND
                             ]
                           }
                         )pb",
                         "silo-implicit-only")
                  .ok());
  EXPECT_EQ(Send(kDomU1, kControl), -XEN_EACCES);
  EXPECT_FALSE(world_.policy->audit().Recent(1)[0].silo);
  EXPECT_EQ(world_.policy->audit().Recent(1)[0].permission, "SEND_EXPLICIT");
}

TEST_F(SiloTest, CapabilitiesGoWithTheirDomain) {
  EXPECT_EQ(world_.policy->Capabilities(kXenstore), kCapXenstore);
  ASSERT_TRUE(world_.level->DestroyDomain(kXenstore).ok());
  EXPECT_EQ(world_.policy->Capabilities(kXenstore), 0);
  // A domain re-created with the same domid and no capability is a domU.
  Create(kXenstore, 0);
  RawGuest again(world_.hv.get(), kXenstore);
  ASSERT_EQ(again.Register(80, XEN_ARGO_DOMID_ANY, kLen,
                           RawGuest::Frames(kLen)),
            0);
  EXPECT_EQ(Send(kDomU1, kXenstore), -XEN_EACCES);
  // Unknown bits and reserved domids are refused.
  EXPECT_FALSE(world_.policy->SetCapabilities(kDomU1, 0x80).ok());
  EXPECT_FALSE(world_.policy->SetCapabilities(DOMID_XEN, kCapControl).ok());
}

TEST_F(SiloTest, CheckNamesWhatDecided) {
  auto refused = world_.policy->CheckDomains(kDomU1, kDomU2, policy::v1::SEND);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->decided_by,
            "SILO mode: neither dom2 nor dom3 has a capability");
  auto allowed =
      world_.policy->CheckDomains(kDomU1, kControl, policy::v1::SEND);
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE(allowed->allowed);
  EXPECT_EQ(allowed->decided_by,
            "rule at silo.textproto:11 (SILO mode: a capability allows it)");
  // By types SILO is not consulted: the rules alone.
  auto by_type = world_.policy->CheckTypes("domain_t", "domain_t",
                                           policy::v1::SEND_EXPLICIT);
  ASSERT_TRUE(by_type.ok());
  EXPECT_TRUE(by_type->allowed);
  EXPECT_FALSE(world_.policy->CheckTypes("nope_t", "domain_t",
                                         policy::v1::SEND)
                   .ok());
}

}  // namespace
}  // namespace argo::testing
