// The nesting simulator binary (demo/nesting_sim) as a person runs it: a
// tree of levels in one process, every message and reply arriving with its
// path; and its refusal of options out of range.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace argo::testing {
namespace {

using ::testing::HasSubstr;

std::string Sim() { return RunfilePath("demo/nesting_sim"); }

TEST(NestingSimTest, ATreeOfLevelsDeliversBothWaysWithPaths) {
  RunResult r = RunProcess({Sim(), "--depth", "3", "--fanout", "2", "--cpus",
                            "3", "--messages", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The first leaf's message as L0 sees it: l1a's port, l2's, l3's, guest.
  EXPECT_THAT(r.out,
              HasSubstr("from dom10:1001 / dom10:1000 / dom10:7 / dom1:100"));
  EXPECT_THAT(r.out, HasSubstr("from parent:7 / parent:1000 / parent:1001 / "
                               "dom1:50"));
  EXPECT_THAT(r.out, HasSubstr("l1b-2b-3b: up 20/0, down 20/0/0 (3 buffers)"));
  EXPECT_THAT(r.out, HasSubstr("every message and every reply arrived"));
}

TEST(NestingSimTest, RefusesOptionsOutOfRange) {
  for (const char* bad : {"--depth=9", "--fanout=0", "--cpus=65"}) {
    const std::string flag(bad);
    const size_t eq = flag.find('=');
    RunResult r =
        RunProcess({Sim(), flag.substr(0, eq), flag.substr(eq + 1)});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_THAT(r.err, HasSubstr("bad option or value")) << bad;
  }
}

}  // namespace
}  // namespace argo::testing
