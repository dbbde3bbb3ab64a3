// Nothing may silently weaken: every permission in policy.proto, every
// mode, and every allow rule of every shipped policy and module must be
// reviewed in docs/policy_review.md.
#include <fstream>
#include <sstream>
#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "implicit_dest/policy/policy.pb.h"

namespace {

std::string Read(const std::string& path) {
  std::ifstream f(std::string(std::getenv("TEST_SRCDIR")) + "/argo/" + path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

TEST(PolicyReviewTest, EveryPermissionIsInTheReviewTable) {
  const std::string doc = Read("docs/policy_review.md");
  ASSERT_FALSE(doc.empty());
  const auto* permissions = argo::policy::v1::Permission_descriptor();
  int reviewed = 0;
  for (int i = 0; i < permissions->value_count(); ++i) {
    const std::string name = permissions->value(i)->name();
    if (permissions->value(i)->number() == 0) continue;  // UNSPECIFIED
    EXPECT_NE(doc.find("| `" + name + "` |"), std::string::npos)
        << name << " is missing from docs/policy_review.md's permission table";
    ++reviewed;
  }
  EXPECT_EQ(reviewed, 5);
  for (const char* mode : {"mac_permissive", "silo"}) {
    EXPECT_NE(doc.find(std::string("| `") + mode + "` |"), std::string::npos)
        << mode << " is missing from the modes table";
  }
}

// Each shipped file has a section headed with its name, and each of its
// rules a row "| `source -> target`: ..." in that section.
TEST(PolicyReviewTest, EveryRuleOfEveryShippedPolicyAndModuleIsReviewed) {
  const std::string doc = Read("docs/policy_review.md");
  for (const char* file :
       {"default.textproto", "strict.textproto", "silo.textproto",
        "modules/core.textproto", "modules/storage.textproto",
        "modules/monitoring.textproto"}) {
    const std::string text = Read(std::string("implicit_dest/policy/") + file);
    ASSERT_FALSE(text.empty()) << file;
    argo::policy::v1::Policy policy;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &policy))
        << file;
    const std::string base = std::string(file).substr(
        std::string(file).find('/') == std::string::npos
            ? 0
            : std::string(file).find('/') + 1);
    const size_t section = doc.find("# " + base);
    ASSERT_NE(section, std::string::npos) << base << " has no section";
    const size_t next = doc.find("\n#", section + 2);
    const std::string body = doc.substr(section, next - section);
    for (const auto& rule : policy.allow()) {
      const std::string row =
          "| `" + rule.source() + " -> " + rule.target() + "`:";
      EXPECT_NE(body.find(row), std::string::npos)
          << base << ": rule " << rule.source() << " -> " << rule.target()
          << " is not reviewed";
    }
  }
}

}  // namespace
