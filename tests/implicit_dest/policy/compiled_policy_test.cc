// Policy text: parse and meaning errors name the line; the shipped
// policies compile to the access vectors their review table describes.
#include "implicit_dest/policy/compiled_policy.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/runfiles.h"
#include "implicit_dest/policy/policy_engine.h"

namespace argo::policy {
namespace {

std::string CompileError(const std::string& text) {
  auto compiled = CompiledPolicy::Compile(text, "p.textproto");
  EXPECT_FALSE(compiled.ok()) << text;
  return std::string(compiled.status().message());
}

// Positions are 1-based line:column of the offending field (its name).
TEST(CompiledPolicyTest, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(CompileError(
                "types: \"a_t\"\ndefault_type: \"a_t\"\nallow { source: }\n"),
            "p.textproto:3:17: Expected string, got: }");
  EXPECT_EQ(CompileError("types: \"a_t\"\nbogus: 1\n"),
            "p.textproto:2:6: Message type \"argo.policy.v1.Policy\" has no "
            "field named \"bogus\".");
  EXPECT_EQ(
      CompileError("types: \"a_t\"\nallow { permissions: [SEND, FLY] }\n"),
      "p.textproto:2:32: Unknown enumeration value of \"FLY\" for field "
      "\"permissions\".");
}

TEST(CompiledPolicyTest, MeaningErrorsNameTheLine) {
  EXPECT_EQ(CompileError(""), "p.textproto: the policy declares no types");
  EXPECT_EQ(
      CompileError("types: \"a_t\"\ntypes: \"a_t\"\ndefault_type: \"a_t\"\n"),
      "p.textproto:2:1: type \"a_t\" is declared twice");
  EXPECT_EQ(CompileError("types: \"Bad\"\n"),
            "p.textproto:1:1: type \"Bad\" must be lower-case letters, digits "
            "and _, and not \"xen\"");
  EXPECT_EQ(CompileError("types: \"a_t\"\ndefault_type: \"b_t\"\n"),
            "p.textproto:2:1: default_type \"b_t\" is not a declared type");
  // The hypervisor's own type is no domain's (a fuzzer find).
  EXPECT_EQ(CompileError("types: \"a_t\"\ndefault_type: \"xen\"\n"),
            "p.textproto:2:1: default_type \"xen\" is not a declared type");
  EXPECT_EQ(CompileError("types: \"a_t\"\ndefault_type: \"a_t\"\n"
                         "allow {\n  source: \"a_t\"\n  target: \"c_t\"\n"
                         "  permissions: [SEND]\n}\n"),
            "p.textproto:5:3: target \"c_t\" is not a declared type, \"xen\" "
            "or \"*\"");
  EXPECT_EQ(
      CompileError(
          "types: \"a_t\"\ndefault_type: \"a_t\"\n"
          "allow { source: \"xen\" target: \"a_t\" permissions: [SEND] }\n"),
      "p.textproto:3:9: source \"xen\" is not a declared type or \"*\"");
  EXPECT_EQ(CompileError("types: \"a_t\"\ndefault_type: \"a_t\"\n"
                         "allow { source: \"a_t\" target: \"a_t\" }\n"),
            "p.textproto:3:9: an allow rule grants no permissions");
  EXPECT_EQ(CompileError("types: \"a_t\"\ndefault_type: \"a_t\"\n"
                         "allow { source: \"a_t\" target: \"a_t\" permissions: "
                         "[SEND, PERMISSION_UNSPECIFIED] }\n"),
            "p.textproto:3:1: PERMISSION_UNSPECIFIED grants nothing");
}

TEST(CompiledPolicyTest, DefaultPolicyGrantsEverythingToEveryone) {
  auto policy = CompiledPolicy::Compile(DefaultPolicyText(), "default");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE((*policy)->mac_permissive());
  const uint16_t types = (*policy)->xen_index();
  for (uint16_t s = 0; s < types; ++s) {
    for (uint16_t t = 0; t <= types; ++t) {
      for (int p = v1::Permission_MIN + 1; p <= v1::Permission_MAX; ++p) {
        EXPECT_NE(
            (*policy)->Vector(s, t) & PermissionBit(static_cast<Permission>(p)),
            0)
            << "default policy must equal no access control";
      }
    }
  }
}

TEST(CompiledPolicyTest, StrictPolicyMatchesItsReviewTable) {
  std::string text = argo::testing::StrictPolicyText();
  auto policy = CompiledPolicy::Compile(text, "strict");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const CompiledPolicy& p = **policy;
  const uint16_t dom0 = *p.TypeIndex("dom0_t"),
                 storage = *p.TypeIndex("storage_t"),
                 client = *p.TypeIndex("client_t"), xen = p.xen_index();
  auto has = [&](uint16_t s, uint16_t t, Permission perm) {
    return (p.Vector(s, t) & PermissionBit(perm)) != 0;
  };
  EXPECT_TRUE(has(client, storage, v1::SEND));
  EXPECT_FALSE(has(client, storage, v1::SEND_EXPLICIT)) << "implicit only";
  EXPECT_FALSE(has(client, client, v1::SEND)) << "no client-to-client";
  EXPECT_FALSE(has(client, xen, v1::REGISTER_ANY_SOURCE));
  EXPECT_TRUE(has(storage, client, v1::SEND_EXPLICIT));
  EXPECT_TRUE(has(storage, xen, v1::REGISTER_ANY_SOURCE));
  EXPECT_TRUE(has(dom0, client, v1::SEND_EXPLICIT));
  EXPECT_EQ(p.default_index(), client);
  EXPECT_EQ(p.Label(42), client) << "unlabelled domains get the default";
}

}  // namespace
}  // namespace argo::policy
