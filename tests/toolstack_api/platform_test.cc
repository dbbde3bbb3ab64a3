// The toolstack's domain registry over the wired platform: names and ids,
// validation that changes nothing on error, labels at creation, teardown of
// everything a domain owned, attach tokens; and the platform as the guest
// transport's attach authority (attach, detach, crash reset, eviction on
// destroy).
#include "toolstack_api/platform.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "implicit_dest/policy/capabilities.h"
#include "tests/testing/raw_guest.h"
#include "tests/testing/runfiles.h"
#include "toolstack_api/boot_config.h"
#include "toolstack_api/convert.h"
#include "toolstack_api/measurement/launch_log.h"
#include "toolstack_api/measurement/sha256.h"

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

// ---- The attach authority (DESIGN §8) --------------------------------------

constexpr pid_t kPid = 4242;

transport::AttachRequest Hello(DomainRef domain, std::string token) {
  return transport::AttachRequest{.mode = transport::Mode::kBlocking,
                                  .vcpus = 1,
                                  .domain = std::move(domain),
                                  .token = std::move(token)};
}

// Everything queued for `subscription` now.
std::vector<v1::Event> Drain(Subscription& subscription) {
  std::vector<v1::Event> events;
  v1::Event e;
  while (subscription.Next(absl::ZeroDuration(), &e) ==
         Subscription::Wait::kEvent) {
    events.push_back(e);
  }
  return events;
}

std::vector<v1::Event::Kind> Kinds(const std::vector<v1::Event>& events) {
  std::vector<v1::Event::Kind> kinds;
  for (const v1::Event& e : events) kinds.push_back(e.kind());
  return kinds;
}

TEST_F(PlatformTest, AttachByNameOrIdRecordsThePidAndGrantsTheMemory) {
  auto web = Create("web");
  ASSERT_TRUE(web.ok());
  const domid_t id = web->first.id;
  EXPECT_EQ(web->first.attached_pid, 0);
  auto grant = platform_->Attach(Hello(std::string("web"), web->second), kPid);
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->domid, id);
  EXPECT_EQ(grant->memory, platform_->hypervisor().DomainMemory(id));
  EXPECT_EQ(grant->memory->nframes(), 256u);
  EXPECT_EQ(platform_->GetDomain(id)->attached_pid, kPid);
  EXPECT_EQ(DomainToProto(*platform_->GetDomain(id)).state(),
            v1::Domain::RUNNING);
  EXPECT_EQ(DomainToProto(*platform_->GetDomain(id)).attached_pid(),
            uint32_t{kPid});
  // Detached, it is CREATED again and attaches by id as well.
  platform_->Detached(id, kPid, transport::DetachReason::kEvicted, "");
  EXPECT_EQ(DomainToProto(*platform_->GetDomain(id)).state(),
            v1::Domain::CREATED);
  EXPECT_TRUE(platform_->Attach(Hello(id, web->second), kPid + 1).ok());
  EXPECT_EQ(platform_->GetDomain(id)->attached_pid, kPid + 1);
}

TEST_F(PlatformTest, AttachRefusalsNameTheProblemAndChangeNothing) {
  auto web = Create("web");
  auto other = Create("other");
  ASSERT_TRUE(web.ok() && other.ok());
  const domid_t id = web->first.id;

  auto unknown =
      platform_->Attach(Hello(std::string("nope"), web->second), kPid);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(), "no domain named \"nope\"");
  EXPECT_EQ(transport::AttachErrorFor(unknown.status()),
            transport::kAttachNoSuchDomain);
  EXPECT_EQ(
      platform_->Attach(Hello(domid_t{77}, web->second), kPid).status().code(),
      absl::StatusCode::kNotFound);

  for (const std::string& bad : {other->second, std::string(""),
                                 web->second.substr(1), web->second + "0"}) {
    auto refused = platform_->Attach(Hello(id, bad), kPid);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied)
        << bad;
    EXPECT_TRUE(absl::StrContains(refused.status().message(),
                                  "not the attach token of domain web"))
        << refused.status();
    EXPECT_EQ(transport::AttachErrorFor(refused.status()),
              transport::kAttachBadToken);
  }
  EXPECT_EQ(platform_->Attach(Hello(id, web->second), 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(platform_->GetDomain(id)->attached_pid, 0) << "refusals changed it";

  ASSERT_TRUE(platform_->Attach(Hello(id, web->second), kPid).ok());
  auto busy = platform_->Attach(Hello(id, web->second), kPid + 1);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(absl::StrContains(busy.status().message(), "pid 4242"))
      << busy.status();
  EXPECT_EQ(transport::AttachErrorFor(busy.status()), transport::kAttachBusy);
  // A wrong token learns nothing, not even that the domain is taken.
  EXPECT_EQ(
      platform_->Attach(Hello(id, other->second), kPid + 1).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(platform_->GetDomain(id)->attached_pid, kPid);
}

TEST_F(PlatformTest, ReissuedTokenReplacesTheOldOne) {
  auto web = Create("web");
  ASSERT_TRUE(web.ok());
  const domid_t id = web->first.id;
  ASSERT_TRUE(platform_->Attach(Hello(id, web->second), kPid).ok());
  auto fresh = platform_->IssueAttachToken(std::string("web"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->size(), 32u);
  EXPECT_NE(*fresh, web->second);
  EXPECT_EQ(platform_->GetDomain(id)->attached_pid, kPid)
      << "the attached process stays";
  platform_->Detached(id, kPid, transport::DetachReason::kEvicted, "");
  EXPECT_EQ(platform_->Attach(Hello(id, web->second), kPid).status().code(),
            absl::StatusCode::kPermissionDenied)
      << "the old token still works";
  EXPECT_FALSE(platform_->CheckAttachToken(id, web->second));
  EXPECT_TRUE(platform_->Attach(Hello(id, *fresh), kPid).ok());
  EXPECT_EQ(platform_->IssueAttachToken(domid_t{77}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PlatformTest, ABootConfiguredDomainAttachesWithAReissuedToken) {
  auto applied = ApplyConfig(*platform_,
                             "domain { name: \"booted\" label: \"storage_t\" }",
                             "boot.textproto", "");
  ASSERT_TRUE(applied.ok()) << applied.status();
  ASSERT_EQ(applied->created.size(), 1u);
  const domid_t id = applied->created[0].id;
  // Nobody saw the token the configuration's CreateDomain drew.
  auto token = platform_->IssueAttachToken(std::string("booted"));
  ASSERT_TRUE(token.ok()) << token.status();
  auto grant = platform_->Attach(Hello(std::string("booted"), *token), kPid);
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->domid, id);
  EXPECT_EQ(platform_->GetDomain(id)->attached_pid, kPid);
}

// DESIGN §8: a guest that dies is a crash of its domain. Its rings and
// waits go; the domain, its memory (contents included), its label and its
// cables stay, partners are unaffected, and a new process can attach.
TEST_F(PlatformTest, AGuestThatClosesCrashesItsDomainAndKeepsTheRest) {
  auto storage = Create("storage", "storage_t");
  auto client = Create("client");
  ASSERT_TRUE(storage.ok() && client.ok());
  const domid_t s = storage->first.id, c = client->first.id;
  ASSERT_TRUE(platform_->Connect({c, 7}, {s, 80}, /*one_way=*/false).ok());
  auto grant = platform_->Attach(Hello(c, client->second), kPid);
  ASSERT_TRUE(grant.ok());

  // The attached guest's hypercalls, in process: a ring of its own, and
  // the storage domain's ring for it (the partner).
  testing::RawGuest guest(&platform_->hypervisor(), c);
  testing::RawGuest partner(&platform_->hypervisor(), s);
  const std::vector<uint64_t> frames = testing::RawGuest::Frames(4096, 0x40);
  ASSERT_EQ(guest.Register(80, s, 4096, frames), 0);
  ASSERT_EQ(partner.Register(80, c, 4096, frames), 0);
  const uint64_t kMark = 0x5eed5eed;
  ASSERT_TRUE(grant->memory->CopyTo(0x30000, &kMark, sizeof(kMark)));
  ASSERT_EQ(platform_->GetDomain(c)->info.ring_count, 1u);

  auto events = platform_->events().Subscribe({});
  ASSERT_TRUE(events.ok());
  platform_->Detached(c, kPid, transport::DetachReason::kClosed, "EOF");

  const DomainRecord after = *platform_->GetDomain(c);
  EXPECT_EQ(after.attached_pid, 0);
  EXPECT_EQ(after.info.ring_count, 0u) << "its rings survived the crash";
  EXPECT_EQ(after.label, "client_t");
  EXPECT_EQ(after.info.memory_frames, 256u);
  EXPECT_EQ(platform_->hypervisor().DomainMemory(c), grant->memory)
      << "the crash replaced its memory";
  uint64_t mark = 0;
  ASSERT_TRUE(grant->memory->CopyFrom(0x30000, &mark, sizeof(mark)));
  EXPECT_EQ(mark, kMark);
  EXPECT_EQ(platform_->table().List().size(), 2u) << "its cables went";
  // The partner's own ring named the crashed domain as its unicast
  // partner: Xen's soft reset removes it too (argo_soft_reset).
  EXPECT_EQ(platform_->GetDomain(s)->info.ring_count, 0u);
  EXPECT_TRUE(platform_->hypervisor().DomainExists(s));

  const std::vector<v1::Event> seen = Drain(**events);
  std::vector<v1::Event::Kind> kinds = Kinds(seen);
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds.front(), v1::Event::GUEST_DETACHED);
  EXPECT_EQ(kinds.back(), v1::Event::DOMAIN_CRASHED);
  EXPECT_EQ(
      std::count(kinds.begin(), kinds.end(), v1::Event::RING_UNREGISTERED), 2);
  EXPECT_EQ(seen.front().summary(),
            "guest pid 4242 detached from domain client (id 2): its socket "
            "closed: EOF");
  EXPECT_TRUE(
      absl::StrContains(seen.back().summary(), "domain client (id 2) crashed"))
      << seen.back().summary();
  EXPECT_EQ(seen.back().domain().ring_count(), 0u);
  EXPECT_EQ(seen.back().domain().state(), v1::Domain::CREATED);

  // Ready for a new guest, with the same token.
  auto again = platform_->Attach(Hello(c, client->second), kPid + 1);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(guest.Register(80, s, 4096, frames), 0);
}

TEST_F(PlatformTest, AProtocolErrorCrashesButAnEvictionDoesNot) {
  auto storage = Create("storage", "storage_t");
  auto client = Create("client");
  ASSERT_TRUE(storage.ok() && client.ok());
  const domid_t s = storage->first.id, c = client->first.id;
  testing::RawGuest guest(&platform_->hypervisor(), c);
  const std::vector<uint64_t> frames = testing::RawGuest::Frames(4096, 0x40);

  ASSERT_TRUE(platform_->Attach(Hello(c, client->second), kPid).ok());
  ASSERT_EQ(guest.Register(80, s, 4096, frames), 0);
  platform_->Detached(c, kPid, transport::DetachReason::kEvicted, "");
  EXPECT_EQ(platform_->GetDomain(c)->info.ring_count, 1u)
      << "an eviction is not a crash";

  ASSERT_TRUE(platform_->Attach(Hello(c, client->second), kPid).ok());
  auto events = platform_->events().Subscribe({});
  ASSERT_TRUE(events.ok());
  platform_->Detached(c, kPid, transport::DetachReason::kProtocolError,
                      std::string("bad magic \x01\xff", 12));
  EXPECT_EQ(platform_->GetDomain(c)->info.ring_count, 0u);
  const std::vector<v1::Event> seen = Drain(**events);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().summary(),
            "guest pid 4242 detached from domain client (id 2): protocol "
            "error: bad magic \\x01\\xff")
      << "the guest's bytes are escaped";
  EXPECT_EQ(seen.back().kind(), v1::Event::DOMAIN_CRASHED);
}

// A process that attaches as a child level (argo-hv --parent) makes its
// domain one for as long as it runs: its crash unmarks it (the reset), an
// eviction too, and a plain guest attaching after is a plain guest. The
// token stays valid across the crash, so the level restarts with it.
TEST_F(PlatformTest, AnAttachAsALevelMarksAChildLevelWhileItsProcessRuns) {
  auto l1 = Create("l1");
  auto web = Create("web");
  ASSERT_TRUE(l1.ok() && web.ok());
  const domid_t id = l1->first.id;
  Hypervisor& hv = platform_->hypervisor();
  auto events = platform_->events().Subscribe({});
  ASSERT_TRUE(events.ok());
  transport::AttachRequest as_level = Hello(id, l1->second);
  as_level.level_cpus = 2;
  ASSERT_TRUE(platform_->Attach(as_level, kPid).ok());
  ASSERT_TRUE(
      platform_->Attach(Hello(web->first.id, web->second), kPid + 1).ok());
  EXPECT_EQ(hv.ChildLevelCpus(id), 2u);
  EXPECT_EQ(hv.ChildLevelCpus(web->first.id), 0u) << "a plain guest";
  std::vector<ChildLevelRecord> children = platform_->ChildLevels();
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].id, id);
  EXPECT_EQ(children[0].name, "l1");
  EXPECT_EQ(children[0].cpus, 2u);
  EXPECT_TRUE(children[0].running);
  const std::vector<v1::Event> seen = Drain(**events);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().summary(),
            "child level pid 4242 attached to domain l1 (id 1, blocking, 1 "
            "vcpu, 2 receive buffers)");

  // Crashed: no longer a level, but listed as one that is not attached.
  platform_->Detached(id, kPid, transport::DetachReason::kClosed, "");
  EXPECT_EQ(hv.ChildLevelCpus(id), 0u);
  children = platform_->ChildLevels();
  ASSERT_EQ(children.size(), 1u);
  EXPECT_FALSE(children[0].running);

  // Restarted with the same token; then evicted.
  ASSERT_TRUE(platform_->Attach(as_level, kPid + 2).ok());
  EXPECT_EQ(hv.ChildLevelCpus(id), 2u);
  EXPECT_TRUE(platform_->ChildLevels()[0].running);
  platform_->Detached(id, kPid + 2, transport::DetachReason::kEvicted, "");
  EXPECT_EQ(hv.ChildLevelCpus(id), 0u) << "an evicted level stays marked";

  // A plain guest on the domain: no child level any more.
  ASSERT_TRUE(platform_->Attach(Hello(id, l1->second), kPid + 3).ok());
  EXPECT_EQ(hv.ChildLevelCpus(id), 0u);
  EXPECT_TRUE(platform_->ChildLevels().empty());
}

TEST_F(PlatformTest, AParentSpecIsCheckedFieldByField) {
  const ParentSpec good{.socket = "/run/argo/l0-attach.sock",
                        .domain = "l1",
                        .token = "0123abcd"};
  EXPECT_TRUE(Platform::CheckParentSpec(good).ok());
  ParentSpec by_id = good;
  by_id.domain = "7";
  EXPECT_TRUE(Platform::CheckParentSpec(by_id).ok());
  struct Case {
    ParentSpec spec;
    std::string field;
    std::string message;
  };
  auto with = [&](auto change) {
    ParentSpec s = good;
    change(s);
    return s;
  };
  const Case cases[] = {
      {with([](ParentSpec& s) { s.socket = ""; }), "socket",
       "socket: the parent's attach socket is needed"},
      {with([](ParentSpec& s) { s.socket = "/" + std::string(107, 'a'); }),
       "socket", "socket: longer than 107 bytes (a unix socket path)"},
      {with([](ParentSpec& s) { s.domain = ""; }), "domain",
       "domain: this level's domain in the parent is needed"},
      {with([](ParentSpec& s) { s.domain = "Bad Name"; }), "domain", ""},
      {with([](ParentSpec& s) { s.domain = "40000"; }), "domain", ""},
      {with([](ParentSpec& s) { s.token = ""; }), "token", ""},
      {with([](ParentSpec& s) { s.token = "ABCD"; }), "token",
       "token: an attach token is lower-case hex (argoctl domain token NAME "
       "at the parent issues one)"},
      {with([](ParentSpec& s) { s.token = std::string(64, 'a'); }), "token",
       ""},
      {with([](ParentSpec& s) { s.cpus = 0; }), "cpus",
       "cpus: 0, expected 1..64"},
      {with([](ParentSpec& s) { s.cpus = 65; }), "cpus",
       "cpus: 65, expected 1..64"},
  };
  for (const Case& c : cases) {
    std::string field;
    absl::Status s = Platform::CheckParentSpec(c.spec, &field);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(field, c.field) << s;
    if (!c.message.empty()) EXPECT_EQ(s.message(), c.message);
  }
}

// Fail closed: no parent at the socket is an error naming it, and the
// level has no link (it would serve as a root otherwise).
TEST_F(PlatformTest, AnUnreachableParentIsAnErrorAndLeavesNoLink) {
  const ParentSpec spec{.socket = "/nonexistent/argo/l0-attach.sock",
                        .domain = "l1",
                        .token = "0123abcd"};
  absl::Status s = platform_->AttachToParent(spec);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(absl::StartsWith(
      s.message(), "parent /nonexistent/argo/l0-attach.sock, domain l1: "))
      << s;
  EXPECT_FALSE(platform_->parent_link().has_value());
  ParentSpec bad = spec;
  bad.cpus = 99;
  EXPECT_EQ(platform_->AttachToParent(bad).message(),
            "parent cpus: 99, expected 1..64");
}

// The transport's report about a process that is no longer the domain's
// (a late report, or a pid never attached) must not reset the rings of the
// process attached now.
TEST_F(PlatformTest, AStaleDetachChangesNothing) {
  auto storage = Create("storage", "storage_t");
  auto client = Create("client");
  ASSERT_TRUE(storage.ok() && client.ok());
  const domid_t s = storage->first.id, c = client->first.id;
  ASSERT_TRUE(platform_->Attach(Hello(c, client->second), kPid).ok());
  testing::RawGuest guest(&platform_->hypervisor(), c);
  ASSERT_EQ(guest.Register(80, s, 4096, testing::RawGuest::Frames(4096, 0x40)),
            0);
  auto events = platform_->events().Subscribe({});
  ASSERT_TRUE(events.ok());
  platform_->Detached(c, kPid + 1, transport::DetachReason::kClosed, "");
  platform_->Detached(99, kPid, transport::DetachReason::kClosed, "");
  EXPECT_EQ(platform_->GetDomain(c)->attached_pid, kPid);
  EXPECT_EQ(platform_->GetDomain(c)->info.ring_count, 1u);
  EXPECT_TRUE(Drain(**events).empty());
}

TEST_F(PlatformTest, AttachEventsNameDomainAndPidButNeverTheToken) {
  auto web = Create("web");
  ASSERT_TRUE(web.ok());
  const domid_t id = web->first.id;
  auto events = platform_->events().Subscribe({{}, id});
  ASSERT_TRUE(events.ok());
  ASSERT_TRUE(
      platform_->Attach(Hello(std::string("web"), web->second), kPid).ok());
  auto fresh = platform_->IssueAttachToken(id);
  ASSERT_TRUE(fresh.ok());
  // A refusal is no event (the transport logs it), and must not echo.
  auto refused = platform_->Attach(Hello(id, web->second), kPid + 1);
  EXPECT_FALSE(absl::StrContains(refused.status().message(), web->second));
  EXPECT_FALSE(absl::StrContains(refused.status().message(), *fresh));
  platform_->Detached(id, kPid, transport::DetachReason::kClosed, "");

  const std::vector<v1::Event> seen = Drain(**events);
  EXPECT_EQ(Kinds(seen),
            (std::vector<v1::Event::Kind>{v1::Event::GUEST_ATTACHED,
                                          v1::Event::GUEST_DETACHED,
                                          v1::Event::DOMAIN_CRASHED}));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].summary(),
            "guest pid 4242 attached to domain web (id 1, blocking, 1 vcpu)");
  EXPECT_EQ(seen[0].domain().state(), v1::Domain::RUNNING);
  EXPECT_EQ(seen[0].domain().attached_pid(), uint32_t{kPid});
  EXPECT_EQ(seen[1].domain().attached_pid(), 0u);
  for (const v1::Event& e : seen) {
    const std::string text = e.DebugString();
    EXPECT_FALSE(absl::StrContains(text, web->second)) << text;
    EXPECT_FALSE(absl::StrContains(text, *fresh)) << text;
  }
}

// DestroyDomain evicts before it tears down: while the evictor runs the
// domain is still whole, attaches and new tokens are refused, and the
// evictor may report the eviction from another thread without deadlock.
TEST_F(PlatformTest, DestroyEvictsTheGuestBeforeTearingDown) {
  auto storage = Create("storage", "storage_t");
  auto client = Create("client");
  ASSERT_TRUE(storage.ok() && client.ok());
  const domid_t s = storage->first.id, c = client->first.id;
  ASSERT_TRUE(platform_->Connect({c, 7}, {s, 80}, false).ok());
  ASSERT_TRUE(platform_->Attach(Hello(c, client->second), kPid).ok());
  testing::RawGuest guest(&platform_->hypervisor(), c);
  ASSERT_EQ(guest.Register(80, s, 4096, testing::RawGuest::Frames(4096, 0x40)),
            0);

  struct Seen {
    std::vector<domid_t> evicted;
    bool existed = false;
    uint32_t rings = 0;
    size_t cables = 0;
    absl::StatusCode attach, token, destroy_again;
  } seen;
  platform_->SetEvictor([&](domid_t id) {
    seen.evicted.push_back(id);
    seen.existed = platform_->hypervisor().DomainExists(id);
    seen.rings = platform_->GetDomain(id)->info.ring_count;
    seen.cables = platform_->table().List().size();
    seen.attach =
        platform_->Attach(Hello(id, client->second), kPid + 1).status().code();
    seen.token = platform_->IssueAttachToken(id).status().code();
    // As the transport does: its loop thread reports, the evictor waits.
    std::thread loop([&] {
      seen.destroy_again = platform_->DestroyDomain(id).code();
      platform_->Detached(id, kPid, transport::DetachReason::kEvicted, "");
    });
    loop.join();
  });
  auto events = platform_->events().Subscribe({{}, c});
  ASSERT_TRUE(events.ok());
  ASSERT_TRUE(platform_->DestroyDomain(std::string("client")).ok());

  EXPECT_EQ(seen.evicted, std::vector<domid_t>{c});
  EXPECT_TRUE(seen.existed);
  EXPECT_EQ(seen.rings, 1u);
  EXPECT_EQ(seen.cables, 2u);
  EXPECT_EQ(seen.attach, absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(seen.token, absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(seen.destroy_again, absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(platform_->hypervisor().DomainExists(c));
  EXPECT_TRUE(platform_->table().List().empty());
  const std::vector<v1::Event::Kind> kinds = Kinds(Drain(**events));
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds.front(), v1::Event::GUEST_DETACHED);
  EXPECT_EQ(kinds.back(), v1::Event::DOMAIN_DESTROYED);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), v1::Event::DOMAIN_CRASHED),
            0)
      << "an eviction is not a crash";

  // A domain nobody is attached to is evicted all the same (a no-op for
  // the transport), and a cleared evictor is never called again.
  ASSERT_TRUE(platform_->DestroyDomain(s).ok());
  EXPECT_EQ(seen.evicted, (std::vector<domid_t>{c, s}));
  platform_->SetEvictor(nullptr);
  ASSERT_TRUE(Create("later").ok());
  ASSERT_TRUE(platform_->DestroyDomain(std::string("later")).ok());
  EXPECT_EQ(seen.evicted.size(), 2u);
}

}  // namespace
}  // namespace argo::toolstack

namespace argo::toolstack {
namespace {

// A client cannot make the level hand out domains or guest memory without
// bound (each domain holds a memfd and its mapping).
TEST(PlatformLimitsTest, DomainCountAndTotalMemoryAreBounded) {
  auto platform =
      Platform::Create({.max_domains = 3, .max_total_memory_frames = 1000});
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

namespace argo::toolstack {
namespace {

// Captures are audited: each start and stop is an event naming the filter
// (and, at stop, the counts).
TEST_F(PlatformTest, CaptureStartAndStopAreEvents) {
  auto events = platform_->events().Subscribe({});
  ASSERT_TRUE(events.ok());
  CaptureFilter filter;
  filter.port = 80;
  filter.refused = true;
  auto capture = platform_->StartCapture(filter, 1 << 20, "port 80, both");
  ASSERT_TRUE(capture.ok());
  EXPECT_EQ(platform_->StartCapture(filter, 0, "bad").status().code(),
            absl::StatusCode::kInvalidArgument);
  platform_->StopCapture(*capture, "port 80, both", 7);
  const std::vector<v1::Event> seen = Drain(**events);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind(), v1::Event::CAPTURE_STARTED);
  EXPECT_TRUE(absl::StrContains(seen[0].summary(), "port 80, both"));
  EXPECT_EQ(seen[1].kind(), v1::Event::CAPTURE_STOPPED);
  EXPECT_TRUE(absl::StrContains(seen[1].summary(), "7 messages captured"));
}

}  // namespace
}  // namespace argo::toolstack

namespace argo::toolstack {
namespace {

// Issue 10 at the platform: capabilities reach the level and are measured,
// module refusals change nothing, and the launch log's order is the order
// policy changes took effect even when they race.
TEST_F(PlatformTest, CapabilitiesReachTheLevelAndEachGrantIsMeasured) {
  const size_t before = platform_->launch_log().Entries().size();
  auto xs = platform_->CreateDomain(
      DomainSpec{.name = "xs", .capabilities = policy::kCapXenstore});
  ASSERT_TRUE(xs.ok()) << xs.status();
  EXPECT_EQ(xs->first.capabilities, policy::kCapXenstore);
  EXPECT_EQ(platform_->policy().Capabilities(xs->first.id),
            policy::kCapXenstore);
  auto bad =
      platform_->CreateDomain(DomainSpec{.name = "bad", .capabilities = 0x80});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(platform_->Resolve(std::string("bad")).ok());
  const std::vector<LaunchLogEntry> log = platform_->launch_log().Entries();
  ASSERT_EQ(log.size(), before + 1) << "one grant, and nothing for the refusal";
  EXPECT_EQ(log.back().kind, MeasurementKind::kCapability);
  EXPECT_EQ(log.back().description,
            absl::StrCat("domain ", xs->first.id, " (xs): xenstore"));
}

TEST_F(PlatformTest, AModuleRefusalChangesNothing) {
  ASSERT_TRUE(platform_->LoadModules({"core", "storage"}).ok());
  ASSERT_TRUE(platform_->AddModule("dup", "", "types: \"client_t\"\n").ok());
  const std::string text = platform_->policy().Text();
  const uint64_t generation = platform_->policy().generation();
  const std::string log = platform_->launch_log().ToJson();
  for (const absl::Status& s :
       {platform_->EnableModule("dup"), platform_->EnableModule("ghost"),
        platform_->DisableModule("core"),
        platform_->LoadModules({"storage", "core"}),
        platform_->LoadModules({"core", "core"})}) {
    EXPECT_FALSE(s.ok());
  }
  EXPECT_EQ(platform_->policy().Text(), text);
  EXPECT_EQ(platform_->policy().generation(), generation);
  EXPECT_EQ(platform_->EnabledModules(),
            (std::vector<std::string>{"core", "storage"}));
  EXPECT_EQ(platform_->launch_log().ToJson(), log);
  EXPECT_EQ(platform_->AddModule("dup", "", "types: \"x_t\"\n").status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(PlatformTest, RacingPolicyChangesAreLoggedInTheOrderTheyTookEffect) {
  ASSERT_TRUE(platform_->LoadModules({"core"}).ok());
  auto d = platform_->CreateDomain(DomainSpec{.name = "d"});
  ASSERT_TRUE(d.ok());
  // Two loaders (modules, and a whole policy: either may find the other's
  // state, so their refusals are expected) and a relabeller.
  const std::string whole = platform_->policy().Text();
  std::thread modules([&] {
    for (int i = 0; i < 20; ++i) {
      platform_->EnableModule("monitoring").IgnoreError();
      platform_->DisableModule("monitoring").IgnoreError();
    }
  });
  std::thread loads([&] {
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(platform_->LoadPolicy(whole, "whole").ok());
    }
  });
  std::thread relabels([&] {
    for (int i = 0; i < 40; ++i) {
      EXPECT_TRUE(
          platform_->Relabel(d->first.id, i % 2 ? "domain_t" : "dom0_t").ok());
    }
  });
  loads.join();
  modules.join();
  relabels.join();
  // The last policy measured is the one in force, and the log replays.
  const std::vector<LaunchLogEntry> log = platform_->launch_log().Entries();
  auto last_policy =
      std::find_if(log.rbegin(), log.rend(), [](const LaunchLogEntry& e) {
        return e.kind == MeasurementKind::kPolicy;
      });
  ASSERT_NE(last_policy, log.rend());
  EXPECT_EQ(last_policy->digest, Sha256(platform_->policy().Text()));
  EXPECT_EQ(std::count_if(log.begin(), log.end(),
                          [](const LaunchLogEntry& e) {
                            return e.kind == MeasurementKind::kRelabel;
                          }),
            40);
  std::string replayed;
  ASSERT_TRUE(
      VerifyLaunchLogJson(platform_->launch_log().ToJson(), &replayed).ok());
  EXPECT_EQ(replayed, Sha256ToHex(platform_->launch_log().Register()));
}

}  // namespace
}  // namespace argo::toolstack
