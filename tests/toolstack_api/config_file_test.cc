// Reading policy and configuration files (config_file.h): bounded, and
// fail closed — a directory, an empty file or one with only blanks and
// comments is refused with the path named, never returned as "" (which the
// platform would take for the permissive default policy).
#include "toolstack_api/config_file.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace argo::toolstack {
namespace {

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/argo-config-file-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { system(absl::StrCat("rm -rf ", dir_).c_str()); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Expects ReadTextFile(path) to fail with `code` and every one of `words`.
  void ExpectRefused(const std::string& path, TextKind kind,
                     absl::StatusCode code, std::vector<std::string> words) {
    absl::StatusOr<std::string> text = ReadTextFile(path, kind);
    ASSERT_FALSE(text.ok()) << path << " was read as \"" << *text << "\"";
    EXPECT_EQ(text.status().code(), code) << text.status();
    for (const std::string& w : words) {
      EXPECT_TRUE(absl::StrContains(text.status().message(), w))
          << text.status() << " lacks " << w;
    }
  }
  std::string dir_;
};

TEST_F(ConfigFileTest, IsBlankTextSeesOnlyWhitespaceAndComments) {
  EXPECT_TRUE(IsBlankText(""));
  EXPECT_TRUE(IsBlankText(" \n\t\r\n"));
  EXPECT_TRUE(IsBlankText("# only a comment"));
  EXPECT_TRUE(IsBlankText("  # one\n# two \"types\"\n\n"));
  EXPECT_FALSE(IsBlankText("types: \"a_t\""));
  EXPECT_FALSE(IsBlankText("# comment\n  types: \"a_t\"  # trailing\n"));
  EXPECT_FALSE(IsBlankText("x"));
}

TEST_F(ConfigFileTest, AZeroByteFileIsRefusedNotReadAsEmpty) {
  const std::string empty = Write("empty.textproto", "");
  ExpectRefused(
      empty, TextKind::kPolicy, absl::StatusCode::kInvalidArgument,
      {empty + ": is empty", "an empty policy is not 'no policy'", "@default"});
  ExpectRefused(empty, TextKind::kConfig, absl::StatusCode::kInvalidArgument,
                {empty + ": is empty", "empty configuration"});
}

TEST_F(ConfigFileTest, OnlyBlanksAndCommentsIsRefused) {
  const std::string blank =
      Write("blank.textproto", "\n  # nothing here\n\t\n");
  ExpectRefused(
      blank, TextKind::kPolicy, absl::StatusCode::kInvalidArgument,
      {blank + ": holds only blanks and comments", "not 'no policy'"});
}

TEST_F(ConfigFileTest, ADirectoryIsRefusedByName) {
  ExpectRefused(dir_, TextKind::kPolicy, absl::StatusCode::kInvalidArgument,
                {dir_ + ": is a directory"});
  ExpectRefused(dir_ + "/", TextKind::kConfig,
                absl::StatusCode::kInvalidArgument, {"is a directory"});
}

TEST_F(ConfigFileTest, MissingAndOversizeFilesAreNamed) {
  const std::string missing = dir_ + "/missing.textproto";
  ExpectRefused(missing, TextKind::kPolicy, absl::StatusCode::kNotFound,
                {"cannot read " + missing});
  const std::string big =
      Write("big.textproto", std::string(kMaxConfigBytes + 1, '#'));
  ExpectRefused(big, TextKind::kPolicy, absl::StatusCode::kInvalidArgument,
                {big, "larger than"});
  // Exactly the bound is accepted.
  std::string exact(kMaxConfigBytes, ' ');
  exact[0] = 'x';
  absl::StatusOr<std::string> read =
      ReadTextFile(Write("exact.textproto", exact), TextKind::kPolicy);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), kMaxConfigBytes);
}

TEST_F(ConfigFileTest, AFileIsReadWhole) {
  const std::string text = "# c\ntypes: \"a_t\"\n";
  absl::StatusOr<std::string> read =
      ReadTextFile(Write("p.textproto", text), TextKind::kPolicy);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, text);
}

TEST_F(ConfigFileTest, AConfigurationsEmptyPolicyFileIsRefusedAtItsLine) {
  Write("empty-policy.textproto", "");
  const std::string config =
      Write("c.textproto", "# boot\npolicy_file: \"empty-policy.textproto\"\n");
  absl::StatusOr<ConfigFile> file = LoadConfigFile(config);
  ASSERT_FALSE(file.ok()) << "an empty policy_file was accepted";
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(file.status().message(), "c.textproto:2:"))
      << file.status();
  EXPECT_TRUE(absl::StrContains(file.status().message(),
                                "empty-policy.textproto: is empty"))
      << file.status();
  // A policy_file naming a directory (here, the configuration's own).
  const std::string dir_config = Write("d.textproto", "policy_file: \".\"\n");
  file = LoadConfigFile(dir_config);
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(absl::StrContains(file.status().message(), "is a directory"))
      << file.status();
  // And an empty configuration itself.
  const std::string empty = Write("e.textproto", "# nothing\n");
  file = LoadConfigFile(empty);
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(absl::StrContains(file.status().message(), empty))
      << file.status();
}

}  // namespace
}  // namespace argo::toolstack
