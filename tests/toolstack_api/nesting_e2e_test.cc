// Nesting end to end with real processes (DESIGN §7, docs/toolstack.md
// "Nesting (multi-process)"): an L0 argo-hv, an L1 argo-hv attached to it
// with --parent as L0's domain l1, argo-guest processes at both levels.
// A message goes up (L1 guest:100 -> parent:7; L0 l1:7 -> storage:50) and
// a reply comes down; argoctl topology and stats show the link; a SIGKILLed
// L1 is a crash of l1 at L0 (senders there get ECONNREFUSED, no hang); L1
// restarted with the same token (this time from a boot configuration's
// parent block) re-attaches and traffic flows again; a wrong token or an
// unreachable parent stops L1's start with exit 3.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "toolstack_api/toolstack.pb.h"

namespace argo::toolstack {
namespace {

using testing::Daemon;
using testing::RunProcess;
using testing::RunResult;


template <typename Message>
Message FromJson(const std::string& json) {
  Message m;
  auto status = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(status.ok()) << status << "\n" << json;
  return m;
}

// Polls `check` for up to ~10 s.
bool Eventually(const std::function<bool()>& check) {
  for (int i = 0; i < 1000; ++i) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class NestingE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Not under TEST_TMPDIR: too long for a socket path.
    char dir[] = "/tmp/argo-nest-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    l0_ = dir_ + "/l0/hv.sock";
    l0_attach_ = dir_ + "/l0/hv-attach.sock";
    l1_ = dir_ + "/l1/hv.sock";
    l1_attach_ = dir_ + "/l1/hv-attach.sock";
    argo_hv_ = testing::RunfilePath("toolstack_api/argo-hv");
    argoctl_ = testing::RunfilePath("toolstack_api/cli/argoctl");
    argo_guest_ = testing::RunfilePath("guest/cli/argo-guest");
  }
  void TearDown() override {
    for (auto& d : guests_) d.reset();
    level1_.reset();
    level0_.reset();
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  // Starts an argo-hv and waits for its start line in `log`.
  std::unique_ptr<Daemon> StartLevel(const std::string& socket,
                                     const std::string& log,
                                     std::vector<std::string> extra) {
    std::vector<std::string> argv = {argo_hv_, "--socket", socket};
    argv.insert(argv.end(), extra.begin(), extra.end());
    unlink(log.c_str());
    auto daemon = std::make_unique<Daemon>(argv, log);
    const bool started = Eventually([&] {
      return absl::StrContains(testing::ReadFile(log), "argo-hv: started");
    });
    EXPECT_TRUE(started) << testing::ReadFile(log);
    return daemon;
  }
  std::string L0Log() const { return dir_ + "/l0.log"; }
  std::string L1Log() const { return dir_ + "/l1.log"; }

  RunResult Ctl(const std::string& socket, std::vector<std::string> args) {
    std::vector<std::string> argv = {argoctl_, "--socket", socket, "--timeout",
                                     "10"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  std::string Ok(const std::string& socket, std::vector<std::string> args) {
    RunResult r = Ctl(socket, args);
    EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(args, " ") << "\n" << r.err;
    return r.out;
  }
  std::string Token(const std::string& socket, const std::string& domain) {
    return std::string(
        absl::StripAsciiWhitespace(Ok(socket, {"domain", "token", domain})));
  }

  // argo-guest against `attach` as `domain`, bounded so a hang fails.
  std::vector<std::string> Guest(const std::string& attach,
                                 const std::string& domain,
                                 const std::string& token,
                                 std::vector<std::string> command) {
    std::vector<std::string> argv = {"/usr/bin/timeout",
                                     "-s",
                                     "KILL",
                                     "30",
                                     argo_guest_,
                                     "--socket",
                                     attach,
                                     "--domain",
                                     domain,
                                     "--token",
                                     token,
                                     "--timeout",
                                     "5"};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }
  // A listener left running, its stdout in `out`.
  Daemon* Listener(const std::string& attach, const std::string& domain,
                   const std::string& token, const std::string& port,
                   const std::string& out, std::vector<std::string> more = {}) {
    std::vector<std::string> argv = {"/bin/sh", "-c",
                                     "exec \"$0\" \"$@\" > " + out};
    std::vector<std::string> command = {"listen", "--port", port};
    command.insert(command.end(), more.begin(), more.end());
    for (const std::string& a : Guest(attach, domain, token, command)) {
      argv.push_back(a);
    }
    guests_.push_back(std::make_unique<Daemon>(argv, out + ".log"));
    return guests_.back().get();
  }
  bool Running(const std::string& socket, const std::string& domain) {
    return absl::StrContains(Ok(socket, {"domain", "show", domain}), "running");
  }
  bool WaitForText(const std::string& path, const std::string& text) {
    return Eventually(
        [&] { return absl::StrContains(testing::ReadFile(path), text); });
  }

  std::string dir_, l0_, l0_attach_, l1_, l1_attach_;
  std::string argo_hv_, argoctl_, argo_guest_;
  std::unique_ptr<Daemon> level0_, level1_;
  std::vector<std::unique_ptr<Daemon>> guests_;
};

TEST_F(NestingE2eTest, UpDownCrashAndRestartOfAChildLevel) {
  level0_ = StartLevel(l0_, L0Log(), {});
  auto l1_created = FromJson<v1::CreateDomainResponse>(
      Ok(l0_, {"--json", "domain", "create", "l1", "--memory", "1024"}));
  const uint32_t l1_id = l1_created.domain().id();
  const std::string l1_token = l1_created.attach_token();
  Ok(l0_, {"domain", "create", "storage"});
  Ok(l0_, {"connect", "l1:7", "storage:50"});

  // A wrong token or no parent at all: L1 does not start (exit 3).
  RunResult wrong =
      RunProcess({"/usr/bin/timeout", "-s", "KILL", "20", argo_hv_, "--socket",
                  l1_, "--parent", l0_attach_, "--parent-domain", "l1",
                  "--parent-token", "00ff00ff"});
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_TRUE(absl::StrContains(wrong.err, "not the attach token of domain l1"))
      << wrong.err;
  RunResult nowhere =
      RunProcess({"/usr/bin/timeout", "-s", "KILL", "20", argo_hv_, "--socket",
                  l1_, "--parent", dir_ + "/nowhere.sock", "--parent-domain",
                  "l1", "--parent-token", l1_token});
  EXPECT_EQ(nowhere.exit_code, 3) << nowhere.err;
  EXPECT_TRUE(absl::StrContains(
      nowhere.err, absl::StrCat("argo-hv: parent ", dir_, "/nowhere.sock")))
      << nowhere.err;
  EXPECT_FALSE(Running(l0_, "l1"));

  level1_ = StartLevel(l1_, L1Log(),
                       {"--parent", l0_attach_, "--parent-domain", "l1",
                        "--parent-token", l1_token});
  EXPECT_TRUE(absl::StrContains(
      testing::ReadFile(L1Log()),
      absl::StrCat("child level of ", l0_attach_, " as domain l1 (id ", l1_id,
                   ", 2 receive buffers)")))
      << testing::ReadFile(L1Log());
  ASSERT_TRUE(Running(l0_, "l1"));
  Ok(l1_, {"domain", "create", "guest"});
  Ok(l1_, {"connect", "guest:100", "parent:7"});

  // Topology on both sides, as text and JSON.
  const std::string l1_topology = Ok(l1_, {"topology"});
  EXPECT_TRUE(absl::StrContains(l1_topology, "role:     child\n"))
      << l1_topology;
  EXPECT_TRUE(absl::StrContains(
      l1_topology, absl::StrCat("parent link: domain l1 (id ", l1_id,
                                " in the parent), 2 cpus, connected\n")))
      << l1_topology;
  auto l1_json = FromJson<v1::Topology>(Ok(l1_, {"--json", "topology"}));
  EXPECT_EQ(l1_json.role(), v1::Topology::CHILD);
  EXPECT_EQ(l1_json.parent_link().socket(), l0_attach_);
  EXPECT_EQ(l1_json.parent_link().domid(), l1_id);
  const std::string l0_topology = Ok(l0_, {"topology"});
  EXPECT_TRUE(absl::StrContains(l0_topology, "role:     root\n"))
      << l0_topology;
  EXPECT_TRUE(absl::StrContains(l0_topology, "children: l1\n")) << l0_topology;
  auto l0_json = FromJson<v1::Topology>(Ok(l0_, {"--json", "topology"}));
  ASSERT_EQ(l0_json.child_levels_size(), 1);
  EXPECT_EQ(l0_json.child_levels(0).cpus(), 2u);
  EXPECT_EQ(l0_json.child_levels(0).state(), v1::Domain::RUNNING);

  // Up: the L1 guest sends naming only its port; storage at L0 gets it
  // from l1:7, with the path block before the payload.
  const std::string storage_token = Token(l0_, "storage");
  const std::string up_out = dir_ + "/storage.out";
  Listener(l0_attach_, "storage", storage_token, "50", up_out,
           {"--count", "1"});
  ASSERT_TRUE(Eventually([&] { return Running(l0_, "storage"); }));
  const std::string guest_token = Token(l1_, "guest");
  RunResult up = RunProcess(Guest(l1_attach_, "guest", guest_token,
                                  {"send", "--port", "100", "up the stack"}));
  ASSERT_EQ(up.exit_code, 0) << up.err;
  // argo-guest listen reads the path block: l1:7, then the L1 guest.
  ASSERT_TRUE(WaitForText(up_out, ":100 type 0 len 12: up the stack"))
      << testing::ReadFile(up_out);
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(up_out),
                                absl::StrCat("from ", l1_id, ":7 path dom")))
      << testing::ReadFile(up_out);
  ASSERT_TRUE(Eventually([&] { return !Running(l0_, "storage"); }));

  // Down: storage replies from port 50; the L1 guest gets it from
  // parent:7.
  const std::string down_out = dir_ + "/guest.out";
  Listener(l1_attach_, "guest", guest_token, "100", down_out);
  ASSERT_TRUE(Eventually([&] { return Running(l1_, "guest"); }));
  RunResult down = RunProcess(Guest(l0_attach_, "storage", storage_token,
                                    {"send", "--port", "50", "and back down"}));
  ASSERT_EQ(down.exit_code, 0) << down.err;
  ASSERT_TRUE(WaitForText(down_out, ":50 type 0 len 13: and back down"))
      << testing::ReadFile(down_out);
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(down_out),
                                "from parent:7 path dom"))
      << testing::ReadFile(down_out);

  // The counters on both sides, as text and JSON.
  const std::string l1_stats = Ok(l1_, {"stats"});
  EXPECT_TRUE(absl::StrContains(l1_stats, "nesting: up_forwarded 1  "))
      << l1_stats;
  EXPECT_TRUE(absl::StrContains(
      l1_stats, "parent link: up_sent 1  up_refused 0  down_delivered 1  "))
      << l1_stats;
  auto l1_counters = FromJson<v1::Stats>(Ok(l1_, {"--json", "stats"}));
  EXPECT_EQ(l1_counters.parent_link().down_delivered(), 1u);
  EXPECT_EQ(l1_counters.parent_link().dropped_no_cable(), 0u);
  auto l0_counters = FromJson<v1::Stats>(Ok(l0_, {"--json", "stats"}));
  EXPECT_EQ(l0_counters.nesting().down_wrapped(), 1u);
  EXPECT_FALSE(l0_counters.has_parent_link());
  EXPECT_FALSE(absl::StrContains(Ok(l0_, {"stats"}), "parent link:"));

  // SIGKILL L1 while a stream from storage flows down to its guest: l1
  // crashes at L0, and the sender gets ECONNREFUSED (exit 1), not a hang.
  const std::string stream_out = dir_ + "/stream.out";
  std::vector<std::string> stream_argv = {
      "/bin/sh", "-c", "exec \"$0\" \"$@\" 2> " + stream_out};
  for (const std::string& a :
       Guest(l0_attach_, "storage", storage_token,
             {"send", "--port", "50", "--count", "100000000", "tick"})) {
    stream_argv.push_back(a);
  }
  auto stream = std::make_unique<Daemon>(stream_argv, dir_ + "/stream.log");
  ASSERT_TRUE(WaitForText(down_out, "tick"));
  EXPECT_EQ(level1_->Stop(SIGKILL), -1);
  EXPECT_EQ(stream->Wait(), 1) << testing::ReadFile(stream_out);
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(stream_out), "ECONNREFUSED"))
      << testing::ReadFile(stream_out);
  ASSERT_TRUE(Eventually([&] { return !Running(l0_, "l1"); }));
  l0_json = FromJson<v1::Topology>(Ok(l0_, {"--json", "topology"}));
  ASSERT_EQ(l0_json.child_levels_size(), 1);
  EXPECT_EQ(l0_json.child_levels(0).state(), v1::Domain::CREATED);
  EXPECT_TRUE(absl::StrContains(Ok(l0_, {"topology"}), "not attached"));
  RunResult refused = RunProcess(Guest(l0_attach_, "storage", storage_token,
                                       {"send", "--port", "50", "x"}));
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "ECONNREFUSED")) << refused.err;

  // Restarted with the same token, from a boot configuration this time:
  // it re-attaches, and traffic flows up again.
  const std::string config = dir_ + "/l1.textproto";
  std::ofstream(config) << "parent {\n  socket: \"" << l0_attach_
                        << "\"\n  domain: \"l1\"\n  token: \"" << l1_token
                        << "\"\n  cpus: 3\n}\n"
                        << "domain { name: \"guest\" }\n"
                        << "cable { from: \"guest:100\" to: \"parent:7\" }\n";
  chmod(config.c_str(), 0600);
  level1_ = StartLevel(l1_, L1Log(), {"--config", config});
  ASSERT_TRUE(Running(l0_, "l1"));
  l0_json = FromJson<v1::Topology>(Ok(l0_, {"--json", "topology"}));
  ASSERT_EQ(l0_json.child_levels_size(), 1);
  EXPECT_EQ(l0_json.child_levels(0).cpus(), 3u);
  EXPECT_EQ(l0_json.child_levels(0).state(), v1::Domain::RUNNING);
  const std::string again_out = dir_ + "/storage2.out";
  Listener(l0_attach_, "storage", storage_token, "50", again_out,
           {"--count", "1"});
  ASSERT_TRUE(Eventually([&] { return Running(l0_, "storage"); }));
  RunResult again = RunProcess(Guest(l1_attach_, "guest", Token(l1_, "guest"),
                                     {"send", "--port", "100", "once more"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(WaitForText(again_out, "once more"))
      << testing::ReadFile(again_out);
}

// The L0 daemon goes: L1 logs it once, refuses sends up with ECONNREFUSED
// and keeps serving its own guests.
TEST_F(NestingE2eTest, AChildLevelOutlivesItsParent) {
  level0_ = StartLevel(l0_, L0Log(), {});
  auto l1_created = FromJson<v1::CreateDomainResponse>(
      Ok(l0_, {"--json", "domain", "create", "l1"}));
  level1_ =
      StartLevel(l1_, L1Log(),
                 {"--parent", l0_attach_, "--parent-domain", "l1",
                  "--parent-token", l1_created.attach_token(), "--cpus", "1"});
  Ok(l1_, {"domain", "create", "guest"});
  Ok(l1_, {"domain", "create", "peer"});
  Ok(l1_, {"connect", "guest:100", "parent:7"});
  Ok(l1_, {"connect", "guest:5", "peer:5"});

  EXPECT_EQ(level0_->Stop(SIGKILL), -1);
  ASSERT_TRUE(WaitForText(L1Log(), "argo-hv: lost the parent at " + l0_attach_))
      << testing::ReadFile(L1Log());
  EXPECT_TRUE(absl::StrContains(Ok(l1_, {"topology"}),
                                "1 cpu, lost (sends up get ECONNREFUSED)"))
      << Ok(l1_, {"topology"});
  const std::string guest_token = Token(l1_, "guest");
  RunResult up = RunProcess(
      Guest(l1_attach_, "guest", guest_token, {"send", "--port", "100", "up"}));
  EXPECT_EQ(up.exit_code, 1) << up.err;
  EXPECT_TRUE(absl::StrContains(up.err, "ECONNREFUSED")) << up.err;

  // This level's own traffic is untouched.
  const std::string out = dir_ + "/peer.out";
  Listener(l1_attach_, "peer", Token(l1_, "peer"), "5", out, {"--count", "1"});
  ASSERT_TRUE(Eventually([&] { return Running(l1_, "peer"); }));
  RunResult local = RunProcess(Guest(l1_attach_, "guest", guest_token,
                                     {"send", "--port", "5", "still here"}));
  EXPECT_EQ(local.exit_code, 0) << local.err;
  EXPECT_TRUE(WaitForText(out, "still here")) << testing::ReadFile(out);
  auto stats = FromJson<v1::Stats>(Ok(l1_, {"--json", "stats"}));
  EXPECT_EQ(stats.parent_link().up_refused(), 1u);
  EXPECT_EQ(stats.parent_link().up_sent(), 0u);
}

}  // namespace
}  // namespace argo::toolstack
