// A level as a unit: wired once (implicit sends resolve, policy loads wait
// out the level's own grace period), crash versus destroy as the toolstack
// sees them (label and cables stay across a crash), reset to empty, and a
// label that never outlives a failed creation.
#include "nesting/level.h"

#include <vector>

#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"
#include "tests/testing/raw_guest.h"
#include "tests/testing/runfiles.h"

namespace argo::testing {
namespace {

constexpr domid_t kStorage = 1, kClient = 2;
constexpr uint32_t kLen = 4096;

class LevelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nesting::LevelOptions options;
    options.policy_text = StrictPolicyText();
    options.policy_name = "strict.textproto";
    options.notifier = &virqs_;
    auto built = nesting::Level::Create(std::move(options));
    ASSERT_TRUE(built.ok()) << built.status();
    level_ = *std::move(built);
    ASSERT_TRUE(
        level_->CreateDomain(kStorage, DomainConfig{1024, true}, "storage_t")
            .ok());
    ASSERT_TRUE(
        level_->CreateDomain(kClient, DomainConfig{1024, true}, "client_t")
            .ok());
    ASSERT_TRUE(
        level_->table().Connect({kClient, 7}, {kStorage, 80}, true).ok());
  }

  int64_t SendToStorage() {
    RawGuest storage(&level_->hypervisor(), kStorage);
    if (level_->hypervisor().ListRings().empty()) {
      EXPECT_EQ(storage.Register(80, XEN_ARGO_DOMID_ANY, kLen,
                                 RawGuest::Frames(kLen)),
                0);
    }
    RawGuest client(&level_->hypervisor(), kClient);
    return client.Send(7, ARGO_DOMID_IMPLICIT, 0, Pattern(1, 10));
  }

  VirqRecorder virqs_;
  std::unique_ptr<nesting::Level> level_;
};

TEST_F(LevelTest, WiredOnce) {
  EXPECT_EQ(SendToStorage(), 10) << "the table resolves implicit sends";
  EXPECT_EQ(level_->Explain({kClient, 7}).xen_errno, 0);
  // A load replaces the policy after the level's grace period.
  ASSERT_TRUE(level_->policy()->Load(StrictPolicyText(), "again").ok());
  EXPECT_EQ(level_->policy()->generation(), 2u);
  EXPECT_EQ(SendToStorage(), 10);
}

TEST_F(LevelTest, CrashKeepsLabelAndCablesDestroyDropsThem) {
  ASSERT_EQ(SendToStorage(), 10);
  ASSERT_TRUE(level_->CrashDomain(kStorage).ok());
  EXPECT_TRUE(level_->hypervisor().ListRings().empty()) << "rings reset";
  EXPECT_EQ(level_->policy()->Label(kStorage), "storage_t");
  EXPECT_EQ(level_->table().List().size(), 2u) << "cables stay";
  EXPECT_EQ(SendToStorage(), 10) << "a new guest is reachable at once";

  ASSERT_TRUE(level_->DestroyDomain(kStorage).ok());
  EXPECT_EQ(level_->policy()->Label(kStorage), "client_t")
      << "back to the default type";
  EXPECT_TRUE(level_->table().List().empty()) << "cables die with it";
  EXPECT_EQ(level_->CrashDomain(kStorage).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LevelTest, ResetEmptiesTheLevel) {
  ASSERT_EQ(SendToStorage(), 10);
  level_->Reset();
  EXPECT_TRUE(level_->hypervisor().ListDomains().empty());
  EXPECT_EQ(level_->table().size(), 0u);
  EXPECT_EQ(level_->hypervisor().window_segments(), 0u);
  ASSERT_TRUE(
      level_->CreateDomain(kStorage, DomainConfig{1024, true}, "storage_t")
          .ok());
}

TEST_F(LevelTest, FailedCreationLeavesNoLabel) {
  EXPECT_EQ(level_->CreateDomain(9, DomainConfig{1024, true}, "no_such_t")
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(level_->hypervisor().DomainExists(9));
  EXPECT_EQ(level_->CreateDomain(9, DomainConfig{0, true}, "storage_t").code(),
            absl::StatusCode::kInvalidArgument)
      << "bad memory size";
  EXPECT_EQ(level_->policy()->Label(9), "client_t") << "label rolled back";
  // An existing domain's label is not touched by a refused creation.
  EXPECT_EQ(level_->CreateDomain(kStorage, DomainConfig{1024, true}, "dom0_t")
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(level_->policy()->Label(kStorage), "storage_t");
}

TEST(LevelWithoutAccessControlTest, HasNoPolicyAndRefusesLabels) {
  nesting::LevelOptions options;
  options.access_control = false;
  auto level = nesting::Level::Create(std::move(options));
  ASSERT_TRUE(level.ok());
  EXPECT_EQ((*level)->policy(), nullptr);
  EXPECT_EQ((*level)->CreateDomain(1, DomainConfig{16, true}, "x_t").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*level)->CreateDomain(1, DomainConfig{16, true}).ok());
}

TEST(LevelCreateTest, BadPolicyIsRefusedWithItsPlace) {
  nesting::LevelOptions options;
  options.policy_text = "types: [";
  options.policy_name = "broken.textproto";
  auto level = nesting::Level::Create(std::move(options));
  ASSERT_FALSE(level.ok());
  EXPECT_NE(level.status().message().find("broken.textproto:1"),
            std::string::npos)
      << level.status();
}

}  // namespace
}  // namespace argo::testing
