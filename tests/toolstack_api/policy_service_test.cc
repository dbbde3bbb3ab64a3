// The rest of the policy story through the toolstack service (issue 10):
// domain capabilities, policy modules in the platform, the policy tools
// (check, why, suggest) and the measured launch log — every RPC, each
// refusal with its code and a message naming the problem, and the level's
// state unchanged after each refusal.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"
#include "implicit_dest/policy/capabilities.h"
#include "implicit_dest/policy/default_policy.h"
#include "tests/testing/raw_guest.h"
#include "tests/testing/runfiles.h"
#include "toolstack_api/measurement/launch_log.h"
#include "toolstack_api/measurement/sha256.h"
#include "toolstack_api/server.h"
#include "toolstack_api/toolstack.grpc.pb.h"

namespace argo::toolstack {
namespace {

using grpc::StatusCode;

constexpr uint64_t kRingFrame = 0x40;

v1::DomainRef Named(const std::string& name) {
  v1::DomainRef ref;
  ref.set_name(name);
  return ref;
}
v1::Endpoint End(const std::string& name, uint32_t port) {
  v1::Endpoint e;
  *e.mutable_domain() = Named(name);
  e.set_port(port);
  return e;
}

class PolicyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PlatformOptions options;
    // A fixed clock: the saved log's bytes are deterministic.
    options.launch_log_clock = [] { return absl::FromUnixSeconds(1700000000); };
    auto platform = Platform::Create(std::move(options));
    ASSERT_TRUE(platform.ok());
    platform_ = *std::move(platform);
    auto server = ToolstackServer::Start(platform_.get(), {});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::Toolstack::NewStub(server_->InProcessChannel());
  }
  void TearDown() override {
    server_.reset();
    platform_.reset();
  }

  std::unique_ptr<grpc::ClientContext> Ctx() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(20));
    return c;
  }

  grpc::Status CreateWith(const std::string& name, const std::string& label,
                          std::vector<std::string> caps,
                          v1::CreateDomainResponse* out = nullptr) {
    v1::CreateDomainRequest request;
    request.set_name(name);
    request.set_label(label);
    for (const std::string& c : caps) request.add_capabilities(c);
    v1::CreateDomainResponse response;
    return stub_->CreateDomain(Ctx().get(), request, out ? out : &response);
  }
  v1::Domain Create(const std::string& name, const std::string& label = "",
                    std::vector<std::string> caps = {}) {
    v1::CreateDomainResponse response;
    grpc::Status s = CreateWith(name, label, std::move(caps), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.domain();
  }
  grpc::Status Enable(const std::string& name, v1::PolicyInfo* out = nullptr) {
    v1::PolicyModuleRequest request;
    request.set_name(name);
    v1::PolicyInfo info;
    return stub_->EnablePolicyModule(Ctx().get(), request, out ? out : &info);
  }
  grpc::Status Disable(const std::string& name) {
    v1::PolicyModuleRequest request;
    request.set_name(name);
    v1::PolicyInfo info;
    return stub_->DisablePolicyModule(Ctx().get(), request, &info);
  }
  grpc::Status AddModule(const std::string& name, const std::string& text) {
    v1::AddPolicyModuleRequest request;
    request.set_name(name);
    request.set_file(name + ".textproto");
    request.set_text(text);
    v1::PolicyModule module;
    return stub_->AddPolicyModule(Ctx().get(), request, &module);
  }
  grpc::Status LoadPolicy(const std::string& text, const std::string& name) {
    v1::LoadPolicyRequest request;
    request.set_text(text);
    request.set_name(name);
    v1::PolicyInfo info;
    return stub_->LoadPolicy(Ctx().get(), request, &info);
  }
  v1::ListPolicyModulesResponse Modules() {
    v1::ListPolicyModulesResponse modules;
    EXPECT_TRUE(stub_->ListPolicyModules(Ctx().get(), {}, &modules).ok());
    return modules;
  }
  std::vector<std::string> EnabledModules() {
    std::vector<std::string> out;
    const v1::ListPolicyModulesResponse list = Modules();
    for (const v1::PolicyModule& m : list.modules()) {
      if (m.enabled()) out.push_back(m.name());
    }
    return out;
  }
  v1::Measurements Measurements() {
    v1::Measurements m;
    EXPECT_TRUE(stub_->GetMeasurements(Ctx().get(), {}, &m).ok());
    return m;
  }
  absl::StatusOr<v1::CheckPermissionResponse> CheckDomains(
      const std::string& src, const std::string& dst,
      const std::string& permission) {
    v1::CheckPermissionRequest request;
    *request.mutable_source_domain() = Named(src);
    if (dst == "xen") {
      request.set_target_xen(true);
    } else {
      *request.mutable_target_domain() = Named(dst);
    }
    request.set_permission(permission);
    return Check(request);
  }
  absl::StatusOr<v1::CheckPermissionResponse> Check(
      const v1::CheckPermissionRequest& request) {
    v1::CheckPermissionResponse response;
    grpc::Status s = stub_->CheckPermission(Ctx().get(), request, &response);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          s.error_message());
    }
    return response;
  }

  // Everything a refused call must leave as it was: domains, policy (text,
  // generation, modules), the module registry and the launch log.
  std::string State() {
    v1::ListDomainsResponse domains;
    EXPECT_TRUE(stub_->ListDomains(Ctx().get(), {}, &domains).ok());
    v1::PolicyInfo policy;
    EXPECT_TRUE(stub_->GetPolicy(Ctx().get(), {}, &policy).ok());
    return absl::StrCat(domains.DebugString(), policy.DebugString(),
                        Modules().DebugString(), Measurements().json());
  }
  template <typename Call>
  void ExpectRefused(StatusCode code, const std::string& words, Call call) {
    const std::string before = State();
    grpc::Status s = call();
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_NE(s.error_message().find(words), std::string::npos)
        << "message \"" << s.error_message() << "\" lacks \"" << words << "\"";
    EXPECT_EQ(State(), before) << "a refused call changed the state";
  }

  std::unique_ptr<Platform> platform_;
  std::unique_ptr<ToolstackServer> server_;
  std::unique_ptr<v1::Toolstack::Stub> stub_;
};

// ---- Capabilities ---------------------------------------------------------

TEST_F(PolicyServiceTest, CapabilitiesAreGivenAtCreationShownAndMeasured) {
  v1::Domain xs = Create("xenstore", "", {"xenstore", "control"});
  ASSERT_EQ(xs.capabilities_size(), 2);
  EXPECT_EQ(xs.capabilities(0), "control") << "in a fixed order";
  EXPECT_EQ(xs.capabilities(1), "xenstore");
  v1::Domain plain = Create("guest");
  EXPECT_EQ(plain.capabilities_size(), 0);
  EXPECT_EQ(platform_->policy().Capabilities(xs.id()),
            policy::kCapControl | policy::kCapXenstore)
      << "passed to the level";
  v1::GetDomainRequest get;
  *get.mutable_domain() = Named("xenstore");
  v1::Domain shown;
  ASSERT_TRUE(stub_->GetDomain(Ctx().get(), get, &shown).ok());
  EXPECT_EQ(shown.capabilities_size(), 2);

  // Each grant is one measurement of its canonical text.
  v1::Measurements m = Measurements();
  std::vector<std::string> grants;
  for (const v1::Measurement& e : m.entries()) {
    if (e.kind() == "capability") grants.push_back(e.description());
  }
  EXPECT_EQ(grants,
            (std::vector<std::string>{
                absl::StrCat("domain ", xs.id(), " (xenstore): control"),
                absl::StrCat("domain ", xs.id(), " (xenstore): xenstore")}));
  EXPECT_EQ(m.entries(m.entries_size() - 1).digest(),
            Sha256ToHex(Sha256(absl::StrCat(
                "capability xenstore granted to domain ", xs.id(), "\n"))));
}

TEST_F(PolicyServiceTest, BadCapabilitiesAreRefusedNamingThem) {
  Create("guest");
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "\"root\" is not a capability",
                [&] {
                  return CreateWith("x", "", {"control", "root"});
                });
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "\"control\" is given twice",
                [&] {
                  return CreateWith("x", "", {"control", "control"});
                });
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "is not a capability",
                [&] { return CreateWith("x", "", {""}); });
}

// ---- Modules --------------------------------------------------------------

TEST_F(PolicyServiceTest, ModulesListEnableDisable) {
  v1::ListPolicyModulesResponse list = Modules();
  ASSERT_EQ(list.modules_size(), 3);
  EXPECT_EQ(list.modules(0).name(), "core");
  EXPECT_EQ(list.modules(1).name(), "storage");
  EXPECT_EQ(list.modules(1).file(), "storage.textproto");
  EXPECT_EQ(list.modules(1).source(), "shipped");
  EXPECT_EQ(std::vector<std::string>(list.modules(1).types().begin(),
                                     list.modules(1).types().end()),
            (std::vector<std::string>{"storage_t", "client_t"}));
  EXPECT_FALSE(list.modular());
  EXPECT_TRUE(EnabledModules().empty());

  v1::PolicyInfo info;
  ASSERT_TRUE(Enable("storage", &info).ok());
  EXPECT_EQ(std::vector<std::string>(info.enabled_modules().begin(),
                                     info.enabled_modules().end()),
            (std::vector<std::string>{"core", "storage"}))
      << "core first when modular";
  EXPECT_TRUE(Modules().modular());
  EXPECT_EQ(platform_->policy().Types(),
            (std::vector<std::string>{"dom0_t", "domain_t", "storage_t",
                                      "client_t"}));
  ASSERT_TRUE(Enable("monitoring").ok());
  EXPECT_EQ(EnabledModules(),
            (std::vector<std::string>{"core", "storage", "monitoring"}));
  ASSERT_TRUE(Disable("storage").ok());
  EXPECT_EQ(EnabledModules(), (std::vector<std::string>{"core", "monitoring"}));
  EXPECT_EQ(platform_->policy().Types(),
            (std::vector<std::string>{"dom0_t", "domain_t", "monitor_t"}));

  ExpectRefused(StatusCode::NOT_FOUND, "no policy module named \"nope\"",
                [&] { return Enable("nope"); });
  ExpectRefused(StatusCode::NOT_FOUND, "nope", [&] { return Disable("nope"); });
  ExpectRefused(StatusCode::FAILED_PRECONDITION, "already enabled",
                [&] { return Enable("monitoring"); });
  ExpectRefused(StatusCode::FAILED_PRECONDITION, "not enabled",
                [&] { return Disable("storage"); });
  ExpectRefused(StatusCode::FAILED_PRECONDITION, "core module cannot",
                [&] { return Disable("core"); });
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "name",
                [&] { return Enable(""); });
}

TEST_F(PolicyServiceTest, AConflictIsRefusedWithFileAndLineAndChangesNothing) {
  ASSERT_TRUE(Enable("storage").ok());
  ASSERT_TRUE(
      AddModule("dup", "# a second storage\ntypes: \"storage_t\"\n").ok());
  ExpectRefused(StatusCode::INVALID_ARGUMENT,
                "dup.textproto:2:", [&] { return Enable("dup"); });
  ASSERT_TRUE(AddModule("stray",
                        "allow { source: \"ghost_t\" target: "
                        "\"xen\" permissions: [ENABLE] }\n")
                  .ok());
  ExpectRefused(StatusCode::INVALID_ARGUMENT,
                "stray.textproto:1:", [&] { return Enable("stray"); });
  EXPECT_EQ(EnabledModules(), (std::vector<std::string>{"core", "storage"}));
}

TEST_F(PolicyServiceTest, AddModuleRegistersValidatesAndRefusesClashes) {
  const std::string logger =
      "types: \"logger_t\"\n"
      "allow { source: \"domain_t\" target: \"logger_t\" permissions: [SEND] "
      "}\n";
  ASSERT_TRUE(AddModule("logger", logger).ok());
  v1::ListPolicyModulesResponse list = Modules();
  ASSERT_EQ(list.modules_size(), 4);
  EXPECT_EQ(list.modules(3).name(), "logger");
  EXPECT_EQ(list.modules(3).source(), "added");
  EXPECT_FALSE(list.modules(3).enabled()) << "registered, not enabled";
  EXPECT_EQ(list.modules(3).types(0), "logger_t");

  ExpectRefused(StatusCode::ALREADY_EXISTS, "\"logger\" exists",
                [&] { return AddModule("logger", logger); });
  ExpectRefused(StatusCode::ALREADY_EXISTS, "\"storage\" exists",
                [&] { return AddModule("storage", logger); });
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "bad.textproto:1:", [&] {
    return AddModule("bad", "types: [unclosed");
  });
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "module name",
                [&] { return AddModule("Bad Name", logger); });
  ExpectRefused(StatusCode::INVALID_ARGUMENT, "empty",
                [&] { return AddModule("blank", "# nothing\n"); });

  ASSERT_TRUE(Enable("logger").ok());
  Create("logger", "logger_t");
  Create("client");
  auto verdict = CheckDomains("client", "logger", "SEND");
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_TRUE(verdict->allowed());
  EXPECT_EQ(verdict->decided_by(), "rule at logger.textproto:2");
}

TEST_F(PolicyServiceTest, LoadingAWholePolicyLeavesModularMode) {
  ASSERT_TRUE(Enable("storage").ok());
  ASSERT_TRUE(
      LoadPolicy(std::string(policy::DefaultPolicyText()), "default").ok());
  EXPECT_TRUE(EnabledModules().empty());
  EXPECT_FALSE(Modules().modular());
  v1::PolicyInfo info;
  ASSERT_TRUE(stub_->GetPolicy(Ctx().get(), {}, &info).ok());
  EXPECT_EQ(info.enabled_modules_size(), 0);
  // Enabling again starts from core alone.
  ASSERT_TRUE(Enable("monitoring").ok());
  EXPECT_EQ(EnabledModules(), (std::vector<std::string>{"core", "monitoring"}));
}

// ---- Policy check ---------------------------------------------------------

TEST_F(PolicyServiceTest, CheckByDomainAndByTypeNamesWhatDecided) {
  ASSERT_TRUE(Enable("storage").ok());
  Create("store", "storage_t");
  Create("client", "client_t");
  auto send = CheckDomains("client", "store", "SEND");
  ASSERT_TRUE(send.ok()) << send.status();
  EXPECT_TRUE(send->allowed());
  EXPECT_TRUE(
      absl::StartsWith(send->decided_by(), "rule at storage.textproto:"))
      << send->decided_by();
  EXPECT_EQ(send->source_type(), "client_t");
  EXPECT_EQ(send->target_type(), "storage_t");
  auto explicit_send = CheckDomains("client", "store", "SEND_EXPLICIT");
  ASSERT_TRUE(explicit_send.ok());
  EXPECT_FALSE(explicit_send->allowed());
  EXPECT_EQ(explicit_send->decided_by(),
            "no allow rule grants SEND_EXPLICIT from client_t to storage_t");
  auto enable = CheckDomains("client", "xen", "ENABLE");
  ASSERT_TRUE(enable.ok());
  EXPECT_TRUE(enable->allowed());
  EXPECT_EQ(enable->target_type(), "xen");

  v1::CheckPermissionRequest by_type;
  by_type.set_source_type("client_t");
  by_type.set_target_type("storage_t");
  by_type.set_permission("SEND");
  auto typed = Check(by_type);
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_TRUE(typed->allowed());
  EXPECT_EQ(typed->decided_by(), send->decided_by()) << "the same rule";
  by_type.set_target_type("xen");
  by_type.set_permission("REGISTER_ANY_SOURCE");
  typed = Check(by_type);
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_FALSE(typed->allowed());
}

TEST_F(PolicyServiceTest, CheckRefusesBadRequests) {
  Create("guest");
  v1::CheckPermissionResponse response;
  auto refused = [&](StatusCode code, const std::string& words,
                     const v1::CheckPermissionRequest& request) {
    ExpectRefused(code, words, [&] {
      return stub_->CheckPermission(Ctx().get(), request, &response);
    });
  };
  v1::CheckPermissionRequest r;
  *r.mutable_source_domain() = Named("guest");
  r.set_target_xen(true);
  r.set_permission("FLY");
  refused(StatusCode::INVALID_ARGUMENT, "\"FLY\" is not one of", r);
  r.set_permission("");
  refused(StatusCode::INVALID_ARGUMENT, "permission", r);
  r.set_permission("PERMISSION_UNSPECIFIED");
  refused(StatusCode::INVALID_ARGUMENT, "permission", r);
  r.set_permission("ENABLE");
  *r.mutable_target_domain() = Named("ghost");
  refused(StatusCode::NOT_FOUND, "ghost", r);
  r.set_target_type("domain_t");
  refused(StatusCode::INVALID_ARGUMENT, "both domains or both types", r);
  r.clear_target();
  refused(StatusCode::INVALID_ARGUMENT, "target", r);
  r.set_target_xen(false);
  refused(StatusCode::INVALID_ARGUMENT, "target", r);
  r.clear_source();
  r.set_target_xen(true);
  refused(StatusCode::INVALID_ARGUMENT, "source", r);
  r.set_source_type("nope_t");
  refused(StatusCode::INVALID_ARGUMENT, "nope_t", r);
  r.set_source_type(std::string(1000, 'a'));
  refused(StatusCode::INVALID_ARGUMENT, "longer than 256 bytes", r);
}

// ---- SILO through the toolstack ------------------------------------------

TEST_F(PolicyServiceTest, SiloRefusesDomUToDomUAndAllowsACapableDomain) {
  ASSERT_TRUE(
      LoadPolicy(testing::ReadRunfile("implicit_dest/policy/silo.textproto"),
                 "silo.textproto")
          .ok());
  v1::Domain xs = Create("xs", "", {"xenstore"});
  v1::Domain u1 = Create("u1");
  v1::Domain u2 = Create("u2");
  v1::ConnectRequest cable;
  *cable.mutable_from() = End("u1", 7);
  *cable.mutable_to() = End("u2", 80);
  cable.set_one_way(true);
  v1::ConnectResponse connected;
  ASSERT_TRUE(stub_->Connect(Ctx().get(), cable, &connected).ok());
  *cable.mutable_from() = End("u1", 8);
  *cable.mutable_to() = End("xs", 80);
  ASSERT_TRUE(stub_->Connect(Ctx().get(), cable, &connected).ok());
  testing::RawGuest g_xs(&platform_->hypervisor(), xs.id());
  testing::RawGuest g_u1(&platform_->hypervisor(), u1.id());
  testing::RawGuest g_u2(&platform_->hypervisor(), u2.id());
  for (testing::RawGuest* g : {&g_xs, &g_u2}) {
    ASSERT_EQ(g->Register(80, XEN_ARGO_DOMID_ANY, 4096,
                          testing::RawGuest::Frames(4096, kRingFrame)),
              0);
  }
  const std::vector<uint8_t> payload(16, 3);
  EXPECT_EQ(g_u1.Send(7, ARGO_DOMID_IMPLICIT, 0, payload), -XEN_EACCES)
      << "domU to domU";
  EXPECT_EQ(g_u1.Send(8, ARGO_DOMID_IMPLICIT, 0, payload), 16)
      << "domU to the xenstore domain";

  auto silo = CheckDomains("u1", "u2", "SEND");
  ASSERT_TRUE(silo.ok());
  EXPECT_FALSE(silo->allowed());
  EXPECT_TRUE(absl::StartsWith(silo->decided_by(), "SILO mode:"))
      << silo->decided_by();
  auto capable = CheckDomains("u1", "xs", "SEND");
  ASSERT_TRUE(capable.ok());
  EXPECT_TRUE(capable->allowed()) << capable->decided_by();

  v1::DenialExplanations why;
  ASSERT_TRUE(stub_->ExplainDenials(Ctx().get(), {}, &why).ok());
  ASSERT_EQ(why.explanations_size(), 1);
  EXPECT_TRUE(why.explanations(0).denial().silo());
  EXPECT_TRUE(absl::StrContains(why.explanations(0).missing(), "SILO"))
      << why.explanations(0).missing();
  EXPECT_EQ(why.explanations(0).rule(), "") << "no rule can allow it";
}

// ---- why / suggest ---------------------------------------------------------

TEST_F(PolicyServiceTest, WhyAndSuggestExplainRealDenialsAndLoadNothing) {
  ASSERT_TRUE(Enable("storage").ok());
  v1::Domain c1 = Create("c1", "client_t");
  Create("c2", "client_t");
  v1::ConnectRequest cable;
  *cable.mutable_from() = End("c1", 7);
  *cable.mutable_to() = End("c2", 80);
  cable.set_one_way(true);
  v1::ConnectResponse connected;
  ASSERT_TRUE(stub_->Connect(Ctx().get(), cable, &connected).ok());
  testing::RawGuest g_c1(&platform_->hypervisor(), c1.id());
  const std::vector<uint8_t> payload(8, 1);
  ASSERT_EQ(g_c1.Send(7, ARGO_DOMID_IMPLICIT, 0, payload), -XEN_EACCES);

  v1::DenialExplanations why;
  ASSERT_TRUE(stub_->ExplainDenials(Ctx().get(), {}, &why).ok());
  ASSERT_EQ(why.explanations_size(), 1);
  const v1::DenialExplanation& e = why.explanations(0);
  EXPECT_EQ(e.denial().permission(), "SEND");
  EXPECT_EQ(e.missing(), "SEND from client_t to client_t");
  EXPECT_TRUE(absl::StrContains(e.rule(), "source: \"client_t\"")) << e.rule();
  EXPECT_TRUE(absl::StrContains(e.summary(), "SEND denied")) << e.summary();

  const uint64_t generation = platform_->policy().generation();
  v1::SuggestedRules suggested;
  ASSERT_TRUE(stub_->SuggestRules(Ctx().get(), {}, &suggested).ok());
  EXPECT_EQ(suggested.denials(), 1u);
  EXPECT_TRUE(absl::StrContains(suggested.text(), "target: \"client_t\""))
      << suggested.text();
  EXPECT_EQ(platform_->policy().generation(), generation) << "never loaded";
  ASSERT_FALSE(CheckDomains("c1", "c2", "SEND")->allowed());

  // Reviewed and added as a module, the suggestion allows the send.
  ASSERT_TRUE(AddModule("fix", suggested.text()).ok());
  ASSERT_TRUE(Enable("fix").ok());
  auto now = CheckDomains("c1", "c2", "SEND");
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->allowed());
  EXPECT_TRUE(absl::StartsWith(now->decided_by(), "rule at fix.textproto:"))
      << now->decided_by();
  EXPECT_NE(g_c1.Send(7, ARGO_DOMID_IMPLICIT, 0, payload), -XEN_EACCES);
  EXPECT_FALSE(CheckDomains("c1", "c2", "SEND_EXPLICIT")->allowed())
      << "and nothing more";
}

// ---- Measurements
// ------------------------------------------------------------

TEST_F(PolicyServiceTest, MeasurementsOfConfigPolicyRelabelReplay) {
  const std::string config =
      "policy_modules: [\"core\", \"storage\"]\n"
      "domain { name: \"store\" label: \"storage_t\" capabilities: "
      "[\"hardware\"] }\n"
      "domain { name: \"guest\" label: \"client_t\" }\n";
  v1::ApplyRequest apply;
  apply.set_config_text(config);
  apply.set_name("boot.textproto");
  v1::ApplyResponse applied;
  ASSERT_TRUE(stub_->Apply(Ctx().get(), apply, &applied).ok());
  const std::string strict = testing::StrictPolicyText();
  ASSERT_TRUE(LoadPolicy(strict, "strict.textproto").ok());
  v1::RelabelRequest relabel;
  *relabel.mutable_domain() = Named("guest");
  relabel.set_label("storage_t");
  v1::Domain relabelled;
  ASSERT_TRUE(stub_->Relabel(Ctx().get(), relabel, &relabelled).ok());

  v1::Measurements m = Measurements();
  std::vector<std::string> kinds;
  for (const v1::Measurement& e : m.entries()) {
    kinds.push_back(
        absl::StrCat(e.sequence(), " ", e.kind(), " ", e.description()));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{
                       "1 policy default.textproto (embedded)",
                       "2 policy-module core.textproto",
                       "3 policy-module storage.textproto",
                       "4 policy modules core+storage",
                       "5 capability domain 1 (store): hardware",
                       "6 config boot.textproto",
                       "7 policy strict.textproto",
                       "8 relabel domain 2 -> storage_t",
                   }));
  // Digests of the exact bytes.
  EXPECT_EQ(m.entries(5).digest(), Sha256ToHex(Sha256(config)));
  EXPECT_EQ(m.entries(6).digest(), Sha256ToHex(Sha256(strict)));
  EXPECT_EQ(m.entries(7).digest(),
            Sha256ToHex(Sha256("domain 2 -> storage_t\n")));
  EXPECT_EQ(m.entries(0).unix_nanos(), int64_t{1700000000} * 1000000000);
  // The saved form is the platform's log exactly and replays to the
  // register the reply states.
  EXPECT_EQ(m.json(), platform_->launch_log().ToJson());
  std::string replayed;
  ASSERT_TRUE(VerifyLaunchLogJson(m.json(), &replayed).ok());
  EXPECT_EQ(replayed, m.register_());
  EXPECT_EQ(m.register_(), Sha256ToHex(platform_->launch_log().Register()));
  // A changed digest does not replay.
  std::string tampered = m.json();
  const size_t at = tampered.find(m.entries(6).digest());
  ASSERT_NE(at, std::string::npos);
  tampered[at] = tampered[at] == '0' ? '1' : '0';
  EXPECT_EQ(VerifyLaunchLogJson(tampered, nullptr).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(PolicyServiceTest, ALongNameKeepsItsTailInTheLog) {
  const std::string name =
      absl::StrCat("/", std::string(300, 'd'), "/strict.textproto");
  ASSERT_TRUE(LoadPolicy(testing::StrictPolicyText(), name).ok());
  v1::Measurements m = Measurements();
  const std::string& d = m.entries(m.entries_size() - 1).description();
  EXPECT_EQ(d.size(), LaunchLog::kMaxDescriptionBytes);
  EXPECT_TRUE(absl::StartsWith(d, "...ddd")) << d;
  EXPECT_TRUE(absl::EndsWith(d, "/strict.textproto")) << d;
}

TEST_F(PolicyServiceTest, RefusalsAreNotMeasured) {
  Create("guest");
  const std::string before = Measurements().json();
  EXPECT_FALSE(LoadPolicy("types: [unclosed", "bad").ok());
  v1::RelabelRequest relabel;
  *relabel.mutable_domain() = Named("guest");
  relabel.set_label("nope_t");
  v1::Domain d;
  EXPECT_FALSE(stub_->Relabel(Ctx().get(), relabel, &d).ok());
  EXPECT_FALSE(Enable("nope").ok());
  EXPECT_FALSE(CreateWith("x", "", {"bogus"}).ok());
  v1::ApplyRequest apply;
  apply.set_config_text(
      "policy_text: \"types: 'a_t'\"\npolicy_modules: [\"core\"]\n");
  apply.set_name("both.textproto");
  v1::ApplyResponse applied;
  grpc::Status s = stub_->Apply(Ctx().get(), apply, &applied);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(),
                                "both.textproto:2:1: policy_modules:"))
      << s.error_message();
  EXPECT_EQ(Measurements().json(), before);
}

}  // namespace
}  // namespace argo::toolstack
