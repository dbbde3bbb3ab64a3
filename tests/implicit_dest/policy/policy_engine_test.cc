// The policy engine as the hypervisor's XSM hooks: implicit-only
// enforcement, denials audited, atomic load, relabel, generations, labels
// that die with their domain, and loads under concurrent sends.
#include "implicit_dest/policy/policy_engine.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/testing/runfiles.h"
#include "tests/testing/implicit_world.h"

namespace argo::testing {
namespace {

constexpr domid_t kDom0 = 0, kStorage = 1, kClientA = 2, kClientB = 3;
constexpr uint32_t kLen = 4096;

class PolicyEngineTest : public ::testing::Test {
 protected:
  PolicyEngineTest() : world_(StrictPolicyText()) {}
  void SetUp() override {
    world_.AddDomain(kDom0, "dom0_t");
    world_.AddDomain(kStorage, "storage_t");
    world_.AddDomain(kClientA, "client_t");
    world_.AddDomain(kClientB, "client_t");
    storage_ = std::make_unique<RawGuest>(world_.hv.get(), kStorage);
    a_ = std::make_unique<RawGuest>(world_.hv.get(), kClientA);
    ASSERT_EQ(storage_->Register(80, XEN_ARGO_DOMID_ANY, kLen,
                                 RawGuest::Frames(kLen)),
              0);
    ASSERT_TRUE(
        world_.table.Connect({kClientA, 7}, {kStorage, 80}, false).ok());
  }
  policy::PolicyEngine& engine() { return *world_.policy; }

  ImplicitWorld world_;
  std::unique_ptr<RawGuest> storage_, a_;
};

TEST_F(PolicyEngineTest, ClientsMayOnlySendToImplicitDestinations) {
  EXPECT_EQ(ImplicitWorld::SendImplicit(*a_, 7, Pattern(1, 16)), 16);
  EXPECT_EQ(a_->Send(7, kStorage, 80, Pattern(1, 16)), -XEN_EACCES);
  ASSERT_EQ(engine().audit().total(), 1u);
  policy::Denial denial = engine().audit().Recent(1)[0];
  EXPECT_EQ(denial.permission, "SEND_EXPLICIT");
  EXPECT_EQ(denial.source, kClientA);
  EXPECT_EQ(denial.source_type, "client_t");
  EXPECT_EQ(denial.target_type, "storage_t");
  EXPECT_EQ(denial.Describe(),
            "dom2 (client_t) -> dom1 (storage_t): SEND_EXPLICIT denied "
            "(sendv/notify)");
}

TEST_F(PolicyEngineTest, ExplicitNotifyQueriesNeedSendExplicitToo) {
  xen_argo_ring_data_ent_t q = {};
  q.ring = {80, kStorage, 0};
  EXPECT_EQ(a_->Notify({q}, nullptr), -XEN_EACCES);
  q.ring = {7, ARGO_DOMID_IMPLICIT, 0};
  std::vector<xen_argo_ring_data_ent_t> out;
  EXPECT_EQ(a_->Notify({q}, &out), 0);
  EXPECT_NE(out[0].flags & XEN_ARGO_RING_EXISTS, 0);
}

TEST_F(PolicyEngineTest, ClientsCannotReachEachOtherEvenWhenCabled) {
  RawGuest b(world_.hv.get(), kClientB);
  EXPECT_EQ(b.Register(9, kClientA, kLen, RawGuest::Frames(kLen)), -XEN_EACCES)
      << "REGISTER_SINGLE_SOURCE client_t -> client_t";
  ASSERT_TRUE(world_.table.Connect({kClientA, 8}, {kClientB, 9}, false).ok());
  EXPECT_EQ(ImplicitWorld::SendImplicit(*a_, 8, Pattern(1, 4)), -XEN_EACCES);
  EXPECT_EQ(engine().audit().Recent(1)[0].permission, "SEND");
}

TEST_F(PolicyEngineTest, StorageRepliesExplicitlyAndDom0DoesAnything) {
  ASSERT_EQ(a_->Register(7, kStorage, kLen, RawGuest::Frames(kLen)), 0);
  EXPECT_EQ(storage_->Send(80, kClientA, 7, Pattern(1, 4)), 4);
  RawGuest dom0(world_.hv.get(), kDom0);
  EXPECT_EQ(dom0.Send(1, kStorage, 80, Pattern(1, 4)), 4);
  EXPECT_EQ(engine().audit().total(), 0u);
}

TEST_F(PolicyEngineTest, WildcardRingsNeedRegisterAnySource) {
  EXPECT_EQ(a_->Register(5, XEN_ARGO_DOMID_ANY, kLen, RawGuest::Frames(kLen)),
            -XEN_EACCES);
  EXPECT_EQ(engine().audit().Recent(1)[0].target, DOMID_XEN);
}

TEST_F(PolicyEngineTest, MacPermissiveOffRefusesWildcardRingsWithEperm) {
  std::string text = StrictPolicyText();
  text.replace(text.find("mac_permissive: true"), 20, "mac_permissive: false");
  ASSERT_TRUE(engine().Load(text, "no-wildcards").ok());
  EXPECT_EQ(storage_->Register(81, XEN_ARGO_DOMID_ANY, kLen,
                               RawGuest::Frames(kLen, 0x300)),
            -XEN_EPERM);
}

TEST_F(PolicyEngineTest, EnableIsCheckedAtCreationAndOnEveryOp) {
  ASSERT_TRUE(
      engine()
          .Load(StrictPolicyText() + "types: \"quarantine_t\"\n", "with-quarantine")
          .ok());
  world_.AddDomain(9, "quarantine_t");
  auto info = world_.hv->GetDomainInfo(9);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->argo_enabled) << "no ENABLE: created without Argo";
  RawGuest q(world_.hv.get(), 9);
  EXPECT_EQ(q.NotifyNull(), -XEN_EACCES);
  // Relabelled client_t, it may use Argo calls again (ENABLE per op), but
  // the domain was created without Argo: ENODEV, as in Xen.
  ASSERT_TRUE(engine().Relabel(9, "client_t").ok());
  EXPECT_EQ(q.NotifyNull(), -XEN_ENODEV);
}

TEST_F(PolicyEngineTest, CachedEnablePermitIsDroppedOnRelabelAndLoad) {
  // The hypervisor caches each domain's last ENABLE permit (so the default
  // policy costs almost nothing per op); a relabel or a load must end it.
  ASSERT_TRUE(
      engine()
          .Load(StrictPolicyText() + "types: \"quarantine_t\"\n", "with-quarantine")
          .ok());
  EXPECT_EQ(a_->NotifyNull(), 0);
  EXPECT_EQ(a_->NotifyNull(), 0) << "permit now cached";
  const uint64_t denials = engine().audit().total();
  ASSERT_TRUE(engine().Relabel(kClientA, "quarantine_t").ok());
  EXPECT_EQ(a_->NotifyNull(), -XEN_EACCES) << "relabel ends the cached permit";
  EXPECT_EQ(a_->NotifyNull(), -XEN_EACCES) << "denials are never cached";
  EXPECT_EQ(engine().audit().total(), denials + 2) << "each denial audited";
  ASSERT_TRUE(engine().Relabel(kClientA, "client_t").ok());
  EXPECT_EQ(a_->NotifyNull(), 0);
  // A policy without ENABLE for client_t: the cached permit goes with it.
  std::string no_enable = StrictPolicyText();
  ASSERT_TRUE(engine().Load(no_enable + "types: \"quarantine_t\"\n", "again").ok());
  EXPECT_EQ(a_->NotifyNull(), 0);
  ASSERT_TRUE(engine().Relabel(kClientB, "quarantine_t").ok());
  RawGuest b(world_.hv.get(), kClientB);
  EXPECT_EQ(b.NotifyNull(), -XEN_EACCES);
  ASSERT_TRUE(engine()
                  .Load(std::string(policy::DefaultPolicyText()) +
                            "types: \"client_t\" types: \"storage_t\" "
                            "types: \"dom0_t\" types: \"quarantine_t\"\n",
                        "permissive")
                  .ok());
  EXPECT_EQ(b.NotifyNull(), 0) << "a load ends cached denials' audit too";
}

TEST_F(PolicyEngineTest, BadPoliciesChangeNothing) {
  const std::string before = engine().Text();
  const uint64_t generation = engine().generation();
  absl::Status bad =
      engine().Load("types: \"a_t\"\ndefault_type: \"zzz\"\n", "bad");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "bad:2:1: default_type \"zzz\" is not a declared type");
  // A valid policy that lacks a type a domain is labelled with.
  absl::Status orphan =
      engine().Load("types: \"dom0_t\"\ndefault_type: \"dom0_t\"\n", "orphan");
  EXPECT_EQ(orphan.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine().Text(), before);
  EXPECT_EQ(engine().generation(), generation);
  EXPECT_EQ(engine().Label(kClientA), "client_t");
  EXPECT_EQ(a_->Send(7, kStorage, 80, Pattern(1, 16)), -XEN_EACCES);
}

TEST_F(PolicyEngineTest, LoadingTheDefaultLiftsRestrictions) {
  ASSERT_TRUE(engine().Relabel(kDom0, "client_t").ok());
  ASSERT_TRUE(engine().Relabel(kStorage, "client_t").ok());
  ASSERT_TRUE(engine().Relabel(kClientA, "client_t").ok());
  std::string permissive =
      "types: \"client_t\"\ndefault_type: \"client_t\"\nmac_permissive: true\n"
      "allow { source: \"*\" target: \"*\" permissions: [ENABLE, SEND, "
      "SEND_EXPLICIT, REGISTER_SINGLE_SOURCE, REGISTER_ANY_SOURCE] }\n";
  const uint64_t generation = engine().generation();
  ASSERT_TRUE(engine().Load(permissive, "permissive").ok());
  EXPECT_EQ(engine().generation(), generation + 1);
  EXPECT_EQ(a_->Send(7, kStorage, 80, Pattern(1, 16)), 16);
}

TEST_F(PolicyEngineTest, RelabelValidates) {
  EXPECT_EQ(engine().Relabel(kClientA, "nobody_t").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine().Relabel(kClientA, "xen").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine().Relabel(DOMID_SELF, "client_t").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(engine().Relabel(kClientA, "storage_t").ok());
  EXPECT_EQ(a_->Send(7, kStorage, 80, Pattern(1, 16)), -XEN_EACCES)
      << "storage_t has no SEND to storage_t";
}

TEST_F(PolicyEngineTest, LabelsDieWithTheirDomain) {
  ASSERT_TRUE(world_.hv->DestroyDomain(kStorage).ok());
  EXPECT_EQ(engine().Label(kStorage), "client_t") << "back to the default";
}

TEST_F(PolicyEngineTest, AuditLogIsBounded) {
  for (int i = 0; i < 1500; ++i) a_->Send(7, kStorage, 80, Pattern(1, 4));
  EXPECT_EQ(engine().audit().total(), 1500u);
  auto recent = engine().audit().Recent();
  ASSERT_EQ(recent.size(), policy::AuditLog::kCapacity);
  EXPECT_EQ(recent.front().sequence, 1500u - policy::AuditLog::kCapacity + 1);
  EXPECT_EQ(recent.back().sequence, 1500u);
  EXPECT_EQ(engine().audit().CountsByPermission().at("SEND_EXPLICIT"), 1500u);
}

TEST_F(PolicyEngineTest, LoadsUnderConcurrentSendsAreAtomic) {
  // Every domain gets a type both policies declare, so each load carries
  // the labels over.
  std::string both = StrictPolicyText() + "types: \"domain_t\"\n";
  ASSERT_TRUE(engine().Load(both, "strict+domain_t").ok());
  for (domid_t d : {kDom0, kStorage, kClientA, kClientB}) {
    ASSERT_TRUE(engine().Relabel(d, "client_t").ok());
  }
  std::string open_policy =
      "types: \"client_t\"\ndefault_type: \"client_t\"\n"
      "allow { source: \"*\" target: \"*\" permissions: [ENABLE, SEND, "
      "SEND_EXPLICIT, REGISTER_SINGLE_SOURCE, REGISTER_ANY_SOURCE] }\n";
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0}, sent{0}, denied{0};
  std::thread sender([&] {
    while (!stop.load()) {
      int64_t rc = a_->Send(7, kStorage, 80, Pattern(1, 16));
      if (rc == 16) {
        ++sent;
        RingView view = storage_->View(RawGuest::Frames(kLen), kLen);
        while (view.reader->Read().ok() && view.reader->BytesAvailable() > 0) {
        }
      } else if (rc == -XEN_EACCES) {
        ++denied;
      } else if (rc != -XEN_EAGAIN) {
        ++unexpected;
      }
    }
  });
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(engine().Load(i % 2 ? open_policy : both, "flip").ok());
  }
  stop = true;
  sender.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(sent.load() + denied.load(), 0);
}

}  // namespace
}  // namespace argo::testing
