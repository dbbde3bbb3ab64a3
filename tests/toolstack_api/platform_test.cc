// The toolstack's domain registry over the wired platform: names and ids,
// validation that changes nothing on error, labels at creation, teardown of
// everything a domain owned, attach tokens.
#include "toolstack_api/platform.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/raw_guest.h"
#include "tests/testing/runfiles.h"

namespace argo::toolstack {
namespace {

class PlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = Platform::Create(
        PlatformOptions{.policy_text = argo::testing::StrictPolicyText()});
    ASSERT_TRUE(created.ok()) << created.status();
    platform_ = *std::move(created);
  }
  absl::StatusOr<std::pair<DomainRecord, std::string>> Create(
      std::string name, std::string label = "", domid_t id = 0) {
    return platform_->CreateDomain(
        DomainSpec{.name = name, .id = id, .label = label});
  }
  std::unique_ptr<Platform> platform_;
};

TEST_F(PlatformTest, CreatesWithLowestFreeIdsAndLabels) {
  auto storage = Create("storage", "storage_t");
  ASSERT_TRUE(storage.ok()) << storage.status();
  EXPECT_EQ(storage->first.id, 1);
  EXPECT_EQ(storage->first.label, "storage_t");
  EXPECT_TRUE(storage->first.info.argo_enabled);
  auto client = Create("client-a");
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client->first.id, 2);
  EXPECT_EQ(client->first.label, "client_t") << "the policy's default type";
  auto pinned = Create("dom0", "dom0_t", 0);
  ASSERT_TRUE(pinned.ok()) << "id 0 alone means 'pick one'";
  EXPECT_EQ(pinned->first.id, 3);
  auto zero = platform_->CreateDomain(DomainSpec{
      .name = "control", .id = 0, .explicit_id = true, .label = "dom0_t"});
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(zero->first.id, 0);
  EXPECT_EQ(platform_->ListDomains().size(), 4u);
}

TEST_F(PlatformTest, BadRequestsChangeNothing) {
  ASSERT_TRUE(Create("storage", "storage_t").ok());
  struct Case {
    DomainSpec spec;
    absl::StatusCode code;
  } cases[] = {
      {{.name = ""}, absl::StatusCode::kInvalidArgument},
      {{.name = "Bad Name"}, absl::StatusCode::kInvalidArgument},
      {{.name = "-x"}, absl::StatusCode::kInvalidArgument},
      {{.name = std::string(65, 'a')}, absl::StatusCode::kInvalidArgument},
      {{.name = "storage"}, absl::StatusCode::kAlreadyExists},
      {{.name = "b", .id = 1}, absl::StatusCode::kAlreadyExists},
      {{.name = "c", .id = DOMID_SELF}, absl::StatusCode::kInvalidArgument},
      {{.name = "d", .memory_frames = 0}, absl::StatusCode::kInvalidArgument},
      {{.name = "e", .memory_frames = Platform::kMaxMemoryFrames + 1},
       absl::StatusCode::kInvalidArgument},
      {{.name = "f", .label = "nobody_t"}, absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto created = platform_->CreateDomain(c.spec);
    EXPECT_EQ(created.status().code(), c.code)
        << c.spec.name << ": " << created.status();
  }
  EXPECT_EQ(platform_->ListDomains().size(), 1u);
  EXPECT_EQ(platform_->policy().Label(2), "client_t") << "no label left behind";
  EXPECT_EQ(platform_->CreateDomain({.name = "g"})->first.id, 2);
}

TEST_F(PlatformTest, ResolvesByNameOrIdAndDestroysEverything) {
  ASSERT_TRUE(Create("storage", "storage_t").ok());
  ASSERT_TRUE(Create("client").ok());
  EXPECT_EQ(*platform_->Resolve(std::string("client")), 2);
  EXPECT_EQ(*platform_->Resolve(domid_t{1}), 1);
  EXPECT_EQ(platform_->Resolve(std::string("nope")).status().message(),
            "no domain named \"nope\"");
  EXPECT_EQ(platform_->Resolve(domid_t{9}).status().message(),
            "no domain with id 9");
  ASSERT_TRUE(platform_->table().Connect({2, 7}, {1, 80}, true).ok());
  ASSERT_TRUE(platform_->DestroyDomain(std::string("storage")).ok());
  EXPECT_TRUE(platform_->table().List().empty()) << "its cables went with it";
  EXPECT_EQ(platform_->policy().Label(1), "client_t") << "and its label";
  EXPECT_EQ(platform_->GetDomain(std::string("storage")).status().code(),
            absl::StatusCode::kNotFound);
  // The name and the id are free again.
  auto again = Create("storage", "storage_t");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->first.id, 1);
}

// A guest looping register/unregister, or sending where the policy says
// no, makes events as fast as it can make hypercalls. The bus's per-domain
// limits keep that to a burst plus summaries, so a watcher that reads
// keeps its stream; a destroyed domain's state goes with it.
TEST_F(PlatformTest, AGuestsEventFloodIsSummarisedForWatchers) {
  // Shared: the platform (and its clock) outlives this test's frame.
  auto now = std::make_shared<absl::Time>(absl::FromUnixSeconds(1'800'000'000));
  platform_->events().SetClock([now] { return *now; });
  auto storage = Create("storage", "storage_t");
  auto client = Create("client");
  auto other = Create("other");
  ASSERT_TRUE(storage.ok() && client.ok() && other.ok());
  const domid_t s = storage->first.id, c = client->first.id,
                o = other->first.id;
  auto all = platform_->events().Subscribe({});
  auto at_storage = platform_->events().Subscribe({{}, s});
  ASSERT_TRUE(all.ok() && at_storage.ok());

  testing::RawGuest guest(&platform_->hypervisor(), c);
  const std::vector<uint64_t> frames = testing::RawGuest::Frames(4096, 0x40);
  constexpr int kLoops = 5'000;  // 15,000 events: ~15 queues' worth
  for (int i = 0; i < kLoops; ++i) {
    ASSERT_EQ(guest.Register(80, s, 4096, frames), 0);
    ASSERT_EQ(guest.Unregister(80, s), 0);
  }
  // client_t may not send to client_t: every send is denied and audited.
  const std::vector<uint8_t> payload(8, 1);
  for (int i = 0; i < kLoops; ++i) {
    ASSERT_EQ(guest.Send(9, o, 9, payload), -XEN_EACCES);
  }
  // Another domain's ring event still gets through.
  testing::RawGuest quiet(&platform_->hypervisor(), o);
  ASSERT_EQ(quiet.Register(81, s, 4096, frames), 0);

  *now += absl::Seconds(1);
  std::map<v1::Event::Kind, uint64_t> plain, suppressed;
  std::vector<v1::Event> events;
  v1::Event e;
  Subscription::Wait w;
  while ((w = (*all)->Next(absl::ZeroDuration(), &e)) ==
         Subscription::Wait::kEvent) {
    (e.suppressed() != 0 ? suppressed : plain)[e.kind()] +=
        e.suppressed() != 0 ? e.suppressed() : 1;
    events.push_back(e);
  }
  ASSERT_EQ(w, Subscription::Wait::kIdle) << "the watcher lost its stream";
  const FloodLimits limits;
  EXPECT_EQ(plain[v1::Event::RING_REGISTERED], limits.burst + 1);
  EXPECT_EQ(suppressed[v1::Event::RING_REGISTERED], kLoops - limits.burst);
  EXPECT_EQ(plain[v1::Event::RING_UNREGISTERED], limits.burst);
  EXPECT_EQ(suppressed[v1::Event::RING_UNREGISTERED], kLoops - limits.burst);
  EXPECT_EQ(plain[v1::Event::ACCESS_DENIED], limits.burst);
  EXPECT_EQ(suppressed[v1::Event::ACCESS_DENIED], kLoops - limits.burst);
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [&](const auto& ev) {
    return ev.kind() == v1::Event::RING_REGISTERED && ev.ring().owner() == o;
  })) << "the quiet domain's ring event was lost in the flood";
  // Counters and the audit log still see every one.
  EXPECT_EQ(platform_->GetDomain(c)->denials, uint64_t{kLoops});
  EXPECT_EQ(platform_->policy().audit().total(), uint64_t{kLoops});
  // The ring partner's watcher is told of the ring flood, not of denials
  // that did not concern it.
  std::map<v1::Event::Kind, uint64_t> at_s;
  while ((w = (*at_storage)->Next(absl::ZeroDuration(), &e)) ==
         Subscription::Wait::kEvent) {
    at_s[e.kind()] += e.suppressed();
  }
  ASSERT_EQ(w, Subscription::Wait::kIdle);
  EXPECT_EQ(at_s[v1::Event::RING_REGISTERED], kLoops - limits.burst);
  EXPECT_EQ(at_s[v1::Event::ACCESS_DENIED], 0u);

  EXPECT_EQ(platform_->events().flood_sources(), 2u);  // client and other
  ASSERT_TRUE(platform_->DestroyDomain(c).ok());
  EXPECT_EQ(platform_->events().flood_sources(), 1u);
}

TEST_F(PlatformTest, AttachTokensAreUniqueAndChecked) {
  auto a = Create("a");
  auto b = Create("b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->second.size(), 32u);
  EXPECT_NE(a->second, b->second);
  EXPECT_TRUE(platform_->CheckAttachToken(a->first.id, a->second));
  EXPECT_FALSE(platform_->CheckAttachToken(a->first.id, b->second));
  EXPECT_FALSE(platform_->CheckAttachToken(a->first.id, ""));
  EXPECT_FALSE(platform_->CheckAttachToken(77, a->second));
  ASSERT_TRUE(platform_->DestroyDomain(a->first.id).ok());
  EXPECT_FALSE(platform_->CheckAttachToken(a->first.id, a->second));
}

}  // namespace
}  // namespace argo::toolstack

namespace argo::toolstack {
namespace {

// A client cannot make the level hand out domains or guest memory without
// bound (each domain holds a memfd and its mapping).
TEST(PlatformLimitsTest, DomainCountAndTotalMemoryAreBounded) {
  auto platform = Platform::Create(
      {.max_domains = 3, .max_total_memory_frames = 1000});
  ASSERT_TRUE(platform.ok());
  Platform& p = **platform;
  ASSERT_TRUE(p.CreateDomain({.name = "a", .memory_frames = 600}).ok());
  auto too_big = p.CreateDomain({.name = "b", .memory_frames = 401});
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(too_big.status().message().find("400 left"), std::string::npos)
      << too_big.status();
  ASSERT_TRUE(p.CreateDomain({.name = "b", .memory_frames = 400}).ok());
  ASSERT_TRUE(p.DestroyDomain(std::string("a")).ok());  // frees its memory
  ASSERT_TRUE(p.CreateDomain({.name = "c", .memory_frames = 300}).ok());
  ASSERT_TRUE(p.CreateDomain({.name = "d", .memory_frames = 1}).ok());
  auto too_many = p.CreateDomain({.name = "e", .memory_frames = 1});
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(too_many.status().message().find("3 domains"), std::string::npos);
  EXPECT_EQ(p.ListDomains().size(), 3u);
  EXPECT_FALSE(p.Resolve(std::string("e")).ok());
}

}  // namespace
}  // namespace argo::toolstack
