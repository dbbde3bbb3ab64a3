// The boot configuration (DESIGN §6): the shipped examples apply; a bad
// file is rejected whole with its line, column and field; a failure part
// way through leaves the level exactly as it was (domains, cables, policy).
#include "toolstack_api/boot_config.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "implicit_dest/policy/capabilities.h"
#include "tests/testing/runfiles.h"
#include "toolstack_api/measurement/sha256.h"

namespace argo::toolstack {
namespace {

class BootConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto platform = Platform::Create({});
    ASSERT_TRUE(platform.ok());
    platform_ = *std::move(platform);
  }
  std::string State() {
    std::string s;
    for (const DomainRecord& d : platform_->ListDomains()) {
      absl::StrAppend(&s, d.id, "=", d.name, "/", d.label, ";");
    }
    for (const auto& c : platform_->table().List()) {
      absl::StrAppend(&s, implicit_dest::EndpointName(c.from), ">",
                      implicit_dest::EndpointName(c.to), ";");
    }
    absl::StrAppend(&s, platform_->policy().generation(), ":",
                    platform_->policy().Text());
    return s;
  }
  // Applies `text`; expects failure with `code` and each of `words` in the
  // message, and the state as before.
  void ExpectRejected(const std::string& text, absl::StatusCode code,
                      std::vector<std::string> words) {
    const std::string before = State();
    auto applied = ApplyConfig(*platform_, text, "boot.textproto", "");
    ASSERT_FALSE(applied.ok()) << text;
    EXPECT_EQ(applied.status().code(), code) << applied.status();
    for (const std::string& w : words) {
      EXPECT_NE(applied.status().message().find(w), std::string::npos)
          << applied.status() << " lacks " << w;
    }
    EXPECT_EQ(State(), before) << "rejected configuration left changes";
  }

  std::unique_ptr<Platform> platform_;
};

TEST_F(BootConfigTest, TheDefaultConfigurationApplies) {
  auto applied =
      ApplyConfig(*platform_, testing::ReadRunfile("configs/default.textproto"),
                  "default.textproto", "");
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->created.size(), 3u);
  EXPECT_EQ(applied->installed.size(), 5u);  // two cables both ways, one not
  EXPECT_EQ(platform_->Resolve(std::string("storage")).value(), 1);
  EXPECT_EQ(platform_->GetDomain(domid_t{1})->info.memory_frames, 1024u);
  auto to = platform_->table().Lookup({2, 7});
  ASSERT_TRUE(to.has_value());
  EXPECT_EQ(*to, (implicit_dest::Endpoint{1, 80}));
  EXPECT_FALSE(platform_->table().Lookup({3, 9}).has_value());  // one way
}

TEST_F(BootConfigTest, TheStrictExampleAppliesWithItsPolicyFile) {
  // LoadConfigFile reads policy_file relative to the configuration.
  char dir[] = "/tmp/argo-config-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string sub = absl::StrCat(dir, "/configs");
  ASSERT_EQ(mkdir(sub.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(absl::StrCat(dir, "/implicit_dest").c_str(), 0700), 0);
  ASSERT_EQ(mkdir(absl::StrCat(dir, "/implicit_dest/policy").c_str(), 0700), 0);
  std::ofstream(sub + "/strict.textproto")
      << testing::ReadRunfile("configs/strict.textproto");
  std::ofstream(absl::StrCat(dir, "/implicit_dest/policy/strict.textproto"))
      << testing::StrictPolicyText();
  auto file = LoadConfigFile(sub + "/strict.textproto");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->policy_text, testing::StrictPolicyText());
  auto applied =
      ApplyConfig(*platform_, file->text, "strict", file->policy_text);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(platform_->policy().Label(1), "storage_t");
  EXPECT_EQ(platform_->policy().Label(2), "client_t");
  EXPECT_EQ(platform_->policy().generation(), 2u);

  // A missing policy file is named with the line that names it.
  std::ofstream(sub + "/missing.textproto")
      << "# comment\npolicy_file: \"nowhere.textproto\"\n";
  auto missing = LoadConfigFile(sub + "/missing.textproto");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.textproto:2:"),
            std::string::npos)
      << missing.status();
  EXPECT_NE(missing.status().message().find("nowhere.textproto"),
            std::string::npos);
  system(absl::StrCat("rm -rf ", dir).c_str());
}

TEST_F(BootConfigTest, BadFilesAreRejectedWholeWithTheirPlace) {
  ASSERT_TRUE(platform_->CreateDomain({.name = "existing", .id = 5}).ok());
  const absl::StatusCode invalid = absl::StatusCode::kInvalidArgument;
  ExpectRejected("domain { name: \"a\" }\ndomain { nmae: \"b\" }\n", invalid,
                 {"boot.textproto:2:", "nmae"});
  ExpectRejected("domain { name: \"a\" }\ndomain {\n  name: \"a\"\n}\n",
                 invalid, {"boot.textproto:3:3", "domain.name", "twice"});
  ExpectRejected("domain { name: \"a\" id: 4 }\ndomain { name: \"b\" id: 4 }\n",
                 invalid, {"boot.textproto:2:", "domain.id"});
  ExpectRejected("cable { from: \"a\" to: \"b:1\" }\n", invalid,
                 {"boot.textproto:1:9", "cable.from", "DOMAIN:PORT"});
  ExpectRejected("cable { from: \"a:1\" to: \"b:99999999999\" }\n", invalid,
                 {"boot.textproto:1:", "cable.to", "port"});
  ExpectRejected("policy_text: \"types: [\"\n", invalid,
                 {"boot.textproto:1:", "policy_text"});
  ExpectRejected("policy_file: \"p.textproto\"\n", invalid,
                 {"boot.textproto:1:", "policy_file"});
  // Failures while applying undo what came before them.
  ExpectRejected(
      "domain { name: \"fresh1\" }\n"
      "domain { name: \"fresh2\" }\n"
      "domain { name: \"existing\" }\n",
      absl::StatusCode::kAlreadyExists, {"boot.textproto:3:", "existing"});
  ExpectRejected("domain { name: \"fresh\" label: \"nope_t\" }\n", invalid,
                 {"boot.textproto:1:", "nope_t"});
  ExpectRejected(
      "domain { name: \"fresh\" }\n"
      "cable { from: \"fresh:1\" to: \"existing:2\" }\n"
      "cable { from: \"existing:3\" to: \"ghost:4\" }\n",
      absl::StatusCode::kNotFound, {"boot.textproto:3:", "ghost"});
  ExpectRejected(
      "domain { name: \"fresh\" }\n"
      "cable { from: \"fresh:1\" to: \"existing:2\" }\n"
      "cable { from: \"existing:2\" to: \"fresh:5\" }\n",
      absl::StatusCode::kAlreadyExists, {"boot.textproto:3:"});
  // A policy change is undone too (the labelled domain cannot be kept).
  ExpectRejected(
      "policy_text: \"types: \\\"x_t\\\" default_type: \\\"x_t\\\"\"\n"
      "domain { name: \"fresh\" label: \"domain_t\" }\n",
      invalid, {"boot.textproto:2:", "domain_t"});
  // Checked before anything is applied: the policy is not even loaded.
  ExpectRejected(
      "policy_text: \"types: \\\"x_t\\\" default_type: \\\"x_t\\\"\"\n"
      "domain { name: \"big\" id: 70000 }\n",
      invalid, {"boot.textproto:2:", "domain.id", "not a domid"});
  ExpectRejected(std::string(kMaxConfigBytes + 1, ' '), invalid,
                 {"larger than"});
}

TEST_F(BootConfigTest, BlankConfigurationsAndPoliciesFailClosed) {
  const absl::StatusCode invalid = absl::StatusCode::kInvalidArgument;
  ExpectRejected("", invalid,
                 {"boot.textproto: the configuration is empty",
                  "not applied as 'nothing to do'"});
  ExpectRejected("  # nothing but a comment\n\n", invalid,
                 {"the configuration is empty"});
  // The platform's "" is the permissive default: a config must never
  // reach it with an empty policy.
  ExpectRejected(
      "policy_text: \"\"\n", invalid,
      {"boot.textproto:1:", "policy_text: is empty", "not 'no policy'"});
  ExpectRejected("domain { name: \"a\" }\npolicy_text: \"# none\\n\"\n",
                 invalid, {"boot.textproto:2:", "policy_text: is empty"});
  const std::string before = State();
  auto applied = ApplyConfig(*platform_, "policy_file: \"p.textproto\"\n",
                             "boot.textproto", " \n# blank\n");
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.status().code(), invalid);
  EXPECT_NE(applied.status().message().find(
                "boot.textproto:1:1: policy_file: p.textproto is empty"),
            std::string::npos)
      << applied.status();
  EXPECT_EQ(State(), before);
}

TEST_F(BootConfigTest, PolicyFileContentWithoutAPolicyFileIsRefused) {
  // The content would be silently ignored: the client meant a policy.
  const std::string before = State();
  auto applied = ApplyConfig(*platform_, "domain { name: \"a\" }\n",
                             "boot.textproto", "types: \"x_t\"\n");
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(applied.status().message().find("names no policy_file"),
            std::string::npos)
      << applied.status();
  EXPECT_EQ(State(), before);
}

TEST_F(BootConfigTest, ALateFailureRestoresThePolicy) {
  ASSERT_TRUE(platform_->CreateDomain({.name = "existing", .id = 5}).ok());
  ASSERT_TRUE(platform_->Connect({5, 2}, {5, 3}, true).ok());
  const std::string text_before = platform_->policy().Text();
  const uint64_t generation = platform_->policy().generation();
  // The policy loads, the domain is created, then the cable collides.
  auto applied = ApplyConfig(
      *platform_,
      "policy_text: \"types: \\\"x_t\\\" default_type: \\\"x_t\\\" "
      "allow { source: \\\"*\\\" target: \\\"*\\\" permissions: [ENABLE] }\"\n"
      "domain { name: \"fresh\" }\n"
      "cable { from: \"fresh:1\" to: \"existing:2\" }\n",
      "boot.textproto", "");
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kAlreadyExists)
      << applied.status();
  EXPECT_NE(applied.status().message().find("boot.textproto:3:"),
            std::string::npos);
  EXPECT_FALSE(platform_->Resolve(std::string("fresh")).ok());
  EXPECT_EQ(platform_->policy().Text(), text_before);
  // Loaded and restored: two generations on, which watchers saw.
  EXPECT_EQ(platform_->policy().generation(), generation + 2);
}

// Nesting: the parent block is read at start only, checked field by field
// with its place; through the API it is refused whole.
TEST_F(BootConfigTest, TheParentBlockIsReadWithDefaultsAndCheckedWithItsPlace) {
  const std::string text =
      "domain { name: \"g\" }\n"
      "parent {\n"
      "  socket: \"/run/argo/l0-attach.sock\"\n"
      "  domain: \"l1\"\n"
      "  token: \"0123abcd\"\n"
      "}\n"
      "cable { from: \"g:100\" to: \"parent:7\" }\n";
  auto parent = ParentFromConfig(text, "l1.textproto");
  ASSERT_TRUE(parent.ok()) << parent.status();
  ASSERT_TRUE(parent->has_value());
  EXPECT_EQ((*parent)->socket, "/run/argo/l0-attach.sock");
  EXPECT_EQ((*parent)->domain, "l1");
  EXPECT_EQ((*parent)->token, "0123abcd");
  EXPECT_EQ((*parent)->cpus, 2u) << "cpus 0 (unset) is the default";
  auto none = ParentFromConfig("domain { name: \"g\" }\n", "x");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  struct Case {
    std::string block;
    std::string error;
  };
  const Case cases[] = {
      {"parent { domain: \"l1\" token: \"ab\" }",
       "l1.textproto:1:1: parent.socket: the parent's attach socket is "
       "needed"},
      {"parent {\n socket: \"/s\"\n token: \"ab\"\n}",
       "l1.textproto:1:1: parent.domain: this level's domain in the parent "
       "is needed"},
      {"parent {\n socket: \"/s\"\n domain: \"l1\"\n token: \"XY\"\n}",
       "l1.textproto:4:2: parent.token: an attach token is lower-case hex"},
      {"parent {\n socket: \"/s\"\n domain: \"l1\"\n token: \"ab\"\n"
       " cpus: 65\n}",
       "l1.textproto:5:2: parent.cpus: 65, expected 1..64"},
  };
  for (const Case& c : cases) {
    auto bad = ParentFromConfig(c.block, "l1.textproto");
    ASSERT_FALSE(bad.ok()) << c.block;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(bad.status().message(), c.error))
        << bad.status() << "\nwanted " << c.error;
  }

  // argoctl apply: refused whole, nothing changed.
  ExpectRejected(text, absl::StatusCode::kInvalidArgument,
                 {"boot.textproto:2:",
                  "parent: a running level's parent "
                  "cannot change"});
  // argo-hv --config: the rest applies (the daemon attached first).
  auto applied =
      ApplyConfig(*platform_, text, "l1.textproto", "", ConfigOrigin::kStart);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->created.size(), 1u);
  EXPECT_EQ(applied->installed.size(), 2u) << "g:100 <-> parent:7";
}

}  // namespace
}  // namespace argo::toolstack

namespace argo::toolstack {
namespace {

// Issue 10: policy_modules instead of a whole policy, capabilities on
// domain entries, and the applied configuration measured.
TEST_F(BootConfigTest, PolicyModulesAreAssembledLoadedAndMeasured) {
  const std::string text =
      "policy_modules: [\"core\", \"storage\"]\n"
      "domain { name: \"store\" label: \"storage_t\" capabilities: "
      "[\"hardware\", \"control\"] }\n";
  auto applied = ApplyConfig(*platform_, text, "boot.textproto", "");
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(platform_->EnabledModules(),
            (std::vector<std::string>{"core", "storage"}));
  EXPECT_EQ(applied->created[0].capabilities,
            policy::kCapControl | policy::kCapHardware);
  const std::vector<LaunchLogEntry> log = platform_->launch_log().Entries();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().kind, MeasurementKind::kConfig);
  EXPECT_EQ(log.back().description, "boot.textproto");
  EXPECT_EQ(log.back().digest, Sha256(text)) << "the exact bytes";
}

TEST_F(BootConfigTest, PolicyModulesAndCapabilitiesAreCheckedWithTheirPlace) {
  ExpectRejected("policy_text: \"types: 'a_t'\"\npolicy_modules: [\"core\"]\n",
                 absl::StatusCode::kInvalidArgument,
                 {"boot.textproto:2:1: policy_modules:", "not both"});
  ExpectRejected("\n\npolicy_modules: [\"storage\"]\n",
                 absl::StatusCode::kInvalidArgument,
                 {"boot.textproto:3:", "starts with \"core\""});
  ExpectRejected("policy_modules: [\"core\", \"nope\"]\n",
                 absl::StatusCode::kNotFound,
                 {"boot.textproto:1:", "no policy module named \"nope\""});
  ExpectRejected("policy_modules: [\"core\", \"storage\", \"storage\"]\n",
                 absl::StatusCode::kInvalidArgument,
                 {"boot.textproto:1:", "listed twice"});
  ExpectRejected(
      "domain { name: \"a\" }\n"
      "domain {\n  name: \"b\"\n  capabilities: [\"control\", \"root\"]\n}\n",
      absl::StatusCode::kInvalidArgument,
      {"boot.textproto:4:",
       "domain.capabilities: \"root\" is not a capability"});
  // Labels are checked against the assembled policy.
  ExpectRejected(
      "policy_modules: [\"core\"]\ndomain { name: \"a\" label: \"storage_t\" "
      "}\n",
      absl::StatusCode::kInvalidArgument, {"boot.textproto:2:", "storage_t"});
  EXPECT_TRUE(platform_->EnabledModules().empty());
  EXPECT_EQ(platform_->launch_log().Entries().size(), 1u)
      << "only the start's policy: refusals measure nothing";
}

TEST_F(BootConfigTest, ALateFailureRestoresTheModules) {
  ASSERT_TRUE(platform_->LoadModules({"core", "monitoring"}).ok());
  ASSERT_TRUE(platform_->CreateDomain({.name = "existing", .id = 5}).ok());
  ASSERT_TRUE(platform_->Connect({5, 2}, {5, 3}, true).ok());
  const std::string text_before = platform_->policy().Text();
  auto applied = ApplyConfig(*platform_,
                             "policy_modules: [\"core\", \"storage\"]\n"
                             "domain { name: \"fresh\" }\n"
                             "cable { from: \"fresh:1\" to: \"existing:2\" }\n",
                             "boot.textproto", "");
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(platform_->policy().Text(), text_before);
  EXPECT_EQ(platform_->EnabledModules(),
            (std::vector<std::string>{"core", "monitoring"}))
      << "modular mode and its modules restored";
}

}  // namespace
}  // namespace argo::toolstack
