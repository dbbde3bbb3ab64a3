// Adding a permission must not silently weaken anything: every permission
// in policy.proto must be reviewed in docs/policy_review.md.
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "implicit_dest/policy/policy.pb.h"

namespace {

TEST(PolicyReviewTest, EveryPermissionIsInTheReviewTable) {
  std::ifstream f(std::string(std::getenv("TEST_SRCDIR")) +
                  "/argo/docs/policy_review.md");
  std::stringstream doc;
  doc << f.rdbuf();
  ASSERT_FALSE(doc.str().empty());
  const auto* permissions = argo::policy::v1::Permission_descriptor();
  int reviewed = 0;
  for (int i = 0; i < permissions->value_count(); ++i) {
    const std::string name = permissions->value(i)->name();
    if (permissions->value(i)->number() == 0) continue;  // UNSPECIFIED
    EXPECT_NE(doc.str().find("| `" + name + "` |"), std::string::npos)
        << name << " is missing from docs/policy_review.md's permission table";
    ++reviewed;
  }
  EXPECT_EQ(reviewed, 5);
}

}  // namespace
