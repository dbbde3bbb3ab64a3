// Modular policies (assembly, refusals with file:line, nothing changed on
// refusal) and the audit2why / audit2allow advisor: a suggested rule, once
// loaded, allows the denied operation and nothing else.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "implicit_dest/policy/compiled_policy.h"
#include "implicit_dest/policy/policy_advisor.h"
#include "implicit_dest/policy/policy_modules.h"
#include "implicit_dest/policy/shipped_modules.h"
#include "tests/testing/implicit_world.h"
#include "tests/testing/runfiles.h"

namespace argo::testing {
namespace {

using ::testing::HasSubstr;
using policy::AssemblePolicy;
using policy::PolicyModule;

PolicyModule Module(std::string name, std::string text) {
  return PolicyModule{name, name + ".textproto", std::move(text)};
}

std::vector<PolicyModule> Shipped() { return policy::ShippedModules(); }

TEST(PolicyModulesTest, ShippedModulesAssembleAndCarryTheirOrigins) {
  const auto shipped = Shipped();
  ASSERT_EQ(shipped[0].name, "core");
  auto text = AssemblePolicy(shipped[0], {shipped[1], shipped[2]});
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("# assembled from modules: core, storage, "
                               "monitoring"));
  auto compiled = policy::CompiledPolicy::Compile(*text, "assembled");
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const auto& p = **compiled;
  EXPECT_EQ(p.proto().types_size(), 5);
  const auto rule = p.GrantingRule(*p.TypeIndex("client_t"),
                                   *p.TypeIndex("storage_t"), policy::v1::SEND);
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(rule->origin, "storage.textproto:26");
  const auto monitor = p.GrantingRule(*p.TypeIndex("domain_t"),
                                      *p.TypeIndex("monitor_t"),
                                      policy::v1::SEND);
  ASSERT_TRUE(monitor.has_value());
  EXPECT_EQ(monitor->origin, "monitoring.textproto:11");
  // The core alone assembles too.
  EXPECT_TRUE(AssemblePolicy(shipped[0], {}).ok());
}

TEST(PolicyModulesTest, ConflictsAreRefusedWholeWithTheirPlace) {
  const PolicyModule core = Shipped()[0];
  // A type declared twice: both places named.
  auto twice = AssemblePolicy(
      core, {Module("a", "types: \"x_t\"\n"), Module("b", "\n\ntypes: \"x_t\"\n")});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(twice.status().message(),
              HasSubstr("b.textproto:3:1: type \"x_t\" is declared twice "
                        "(first at a.textproto:1)"));
  // Against the core's own types.
  EXPECT_THAT(AssemblePolicy(core, {Module("c", "types: \"dom0_t\"")})
                  .status()
                  .message(),
              HasSubstr("first at core.textproto:"));
  // A rule naming a type of a module that is not enabled.
  auto unknown = AssemblePolicy(
      core, {Module("d", "allow {\n  source: \"domain_t\"\n  target: "
                         "\"storage_t\"\n  permissions: [SEND]\n}\n")});
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("d.textproto:3:3: target \"storage_t\" is not a type "
                        "of any enabled module"));
  // Core-only fields in an optional module.
  for (const char* field :
       {"silo: true", "default_type: \"domain_t\"", "mac_permissive: true"}) {
    auto widened = AssemblePolicy(core, {Module("e", field)});
    EXPECT_THAT(widened.status().message(),
                HasSubstr("belongs to the core module only"))
        << field;
  }
  // A syntax error.
  EXPECT_THAT(AssemblePolicy(core, {Module("f", "types: [")}).status().message(),
              HasSubstr("f.textproto:1:"));
}

TEST(PolicyModulesTest, ARefusedAssemblyLeavesTheLoadedPolicyAsItWas) {
  ImplicitWorld world;
  const auto shipped = Shipped();
  auto good = AssemblePolicy(shipped[0], {shipped[1]});
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(world.policy->Load(*good, "modules").ok());
  const uint64_t generation = world.policy->generation();
  auto bad = AssemblePolicy(shipped[0],
                            {shipped[1], Module("g", "types: \"client_t\"")});
  ASSERT_FALSE(bad.ok());
  // The caller loads only what assembled: nothing changed.
  EXPECT_EQ(world.policy->generation(), generation);
  EXPECT_EQ(world.policy->Text(), *good);
}

TEST(PolicyAdvisorTest, WhyNamesTheMissingPermissionAndTheSmallestRule) {
  ImplicitWorld world(StrictPolicyText());
  world.AddDomain(1, "storage_t");
  world.AddDomain(2, "client_t");
  world.AddDomain(3, "client_t");
  RawGuest storage = world.Guest(1), a = world.Guest(2), b = world.Guest(3);
  ASSERT_EQ(b.Register(80, XEN_ARGO_DOMID_ANY, 4096, RawGuest::Frames(4096)),
            -XEN_EACCES);  // client_t lacks REGISTER_ANY_SOURCE on xen
  ASSERT_EQ(b.Register(80, 2, 4096, RawGuest::Frames(4096)), -XEN_EACCES);
  const auto reasons =
      policy::ExplainDenials(world.policy->audit().Recent());
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_EQ(reasons[0].missing, "REGISTER_ANY_SOURCE from client_t to xen");
  EXPECT_EQ(reasons[0].rule,
            "allow { source: \"client_t\" target: \"xen\" permissions: "
            "[REGISTER_ANY_SOURCE] }");
  EXPECT_EQ(reasons[1].missing,
            "REGISTER_SINGLE_SOURCE from client_t to client_t");
}

TEST(PolicyAdvisorTest, ASuggestedRuleAllowsTheDeniedOperationAndNothingElse) {
  ImplicitWorld world(StrictPolicyText());
  world.AddDomain(1, "storage_t");
  world.AddDomain(2, "client_t");
  world.AddDomain(3, "client_t");
  RawGuest storage = world.Guest(1), a = world.Guest(2), b = world.Guest(3);
  ASSERT_EQ(storage.Register(80, XEN_ARGO_DOMID_ANY, 4096,
                             RawGuest::Frames(4096)),
            0);
  // An explicit send from a client: denied (no SEND_EXPLICIT).
  ASSERT_EQ(a.Send(9, 1, 80, Pattern(1, 8)), -XEN_EACCES);
  const std::string suggestion =
      policy::SuggestRules(world.policy->audit().Recent());
  EXPECT_EQ(suggestion,
            "allow { source: \"client_t\" target: \"storage_t\" permissions: "
            "[SEND_EXPLICIT] }\n");
  // The old vectors, to compare with.
  auto before = policy::CompiledPolicy::Compile(StrictPolicyText(), "strict");
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(
      world.policy->Load(StrictPolicyText() + suggestion, "strict+suggest")
          .ok());
  EXPECT_EQ(a.Send(9, 1, 80, Pattern(1, 8)), 8);
  auto after =
      policy::CompiledPolicy::Compile(StrictPolicyText() + suggestion, "s");
  ASSERT_TRUE(after.ok());
  // Exactly one bit differs across the whole matrix.
  int differing_bits = 0;
  const uint16_t n = (*before)->xen_index();
  for (uint16_t s = 0; s < n; ++s) {
    for (uint16_t t = 0; t <= n; ++t) {
      differing_bits += __builtin_popcount((*before)->Vector(s, t) ^
                                           (*after)->Vector(s, t));
    }
  }
  EXPECT_EQ(differing_bits, 1);
}

TEST(PolicyAdvisorTest, SuggestMergesAndLeavesSiloDenialsToACapability) {
  policy::Denial send;
  send.source_type = "client_t";
  send.target_type = "storage_t";
  send.permission = "SEND";
  send.also_needed = "SEND_EXPLICIT";
  policy::Denial reg = send;
  reg.permission = "REGISTER_SINGLE_SOURCE";
  reg.also_needed = "";
  policy::Denial silo = send;
  silo.silo = true;
  policy::Denial other = send;
  other.target_type = "xen";
  other.permission = "ENABLE";
  other.also_needed = "";
  EXPECT_EQ(policy::SuggestRules({send, reg, silo, other, send}),
            "allow { source: \"client_t\" target: \"storage_t\" permissions: "
            "[SEND, SEND_EXPLICIT, REGISTER_SINGLE_SOURCE] }\n"
            "allow { source: \"client_t\" target: \"xen\" permissions: "
            "[ENABLE] }\n"
            "# 1 denial(s) by SILO mode: no allow rule can permit them\n");
  const auto reasons = policy::ExplainDenials({silo});
  EXPECT_THAT(reasons[0].missing, HasSubstr("SILO mode"));
  EXPECT_EQ(reasons[0].rule, "");
  EXPECT_EQ(policy::SuggestRules({}), "");
}

}  // namespace
}  // namespace argo::testing
