// End to end (DESIGN §6): argo-hv started as a process, driven by argoctl
// over the real unix socket, human tables and --json parsed and checked;
// the socket's guards (owner-only mode, SO_PEERCRED, one daemon per
// socket), clean shutdown, bad configurations, exit codes, completion.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "toolstack_api/toolstack.pb.h"

namespace argo::toolstack {
namespace {

using testing::Daemon;
using testing::RunProcess;
using testing::RunResult;

constexpr int kNobody = 65534;

template <typename Message>
Message FromJson(const std::string& json) {
  Message m;
  auto status = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(status.ok()) << status << "\n" << json;
  return m;
}

// Rows of a human table, split on runs of spaces; row 0 is the header.
std::vector<std::vector<std::string>> Table(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    rows.push_back(absl::StrSplit(line, ' ', absl::SkipEmpty()));
  }
  return rows;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Not under TEST_TMPDIR: too long for a socket path.
    char dir[] = "/tmp/argo-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    chmod(dir, 0755);  // so a dropped-uid child can reach its copies
    socket_ = dir_ + "/run/hv.sock";
    argo_hv_ = testing::RunfilePath("toolstack_api/argo-hv");
    argoctl_ = testing::RunfilePath("toolstack_api/cli/argoctl");
  }
  void TearDown() override {
    daemon_.reset();
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  void StartDaemon(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {argo_hv_, "--socket", socket_, "--config",
                                     "@default"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    unlink(Log().c_str());  // no start line from an earlier daemon
    daemon_ = std::make_unique<Daemon>(argv, Log());
    // The start line, not the socket: a killed daemon's stale socket may
    // still be there until the new one replaces it.
    for (int i = 0; i < 1000; ++i) {
      if (absl::StrContains(testing::ReadFile(Log()), "argo-hv: started")) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "argo-hv did not start: " << testing::ReadFile(Log());
  }
  std::string Log() const { return dir_ + "/argo-hv.log"; }

  RunResult Ctl(std::vector<std::string> args, int uid = -1,
                const std::string& binary = "") {
    std::vector<std::string> argv = {binary.empty() ? argoctl_ : binary,
                                     "--socket", socket_, "--timeout", "10"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, uid);
  }
  // argo-hv run for a start that must fail: bounded, so a daemon that
  // starts after all fails the test in seconds instead of hanging it.
  RunResult RefusedStart(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/timeout", "-s", "KILL", "20",
                                     argo_hv_, "--socket", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  // Runs and expects exit 0; returns stdout.
  std::string Ok(std::vector<std::string> args) {
    RunResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(args, " ") << "\n" << r.err;
    return r.out;
  }

  std::string dir_, socket_, argo_hv_, argoctl_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonTest, SocketIsOwnerOnlyAndStartIsLogged) {
  StartDaemon();
  struct stat st;
  ASSERT_EQ(stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir_ + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  Ok({"domains"});
  const std::string log = testing::ReadFile(Log());
  EXPECT_TRUE(absl::StrContains(log, "argo-hv: started (argo-hv "));
  EXPECT_TRUE(absl::StrContains(log, "gRPC 1."));
  EXPECT_TRUE(absl::StrContains(log, socket_));
}

TEST_F(DaemonTest, DomainsTableAndJson) {
  StartDaemon();
  auto rows = Table(Ok({"domains"}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], "ID");
  EXPECT_EQ(rows[0][1], "NAME");
  EXPECT_EQ(rows[1][0], "1");
  EXPECT_EQ(rows[1][1], "storage");
  EXPECT_EQ(rows[0][3], "CAPS");
  EXPECT_EQ(rows[0][4], "STATE");
  EXPECT_EQ(rows[0][5], "PID");
  EXPECT_EQ(rows[1][3], "-") << "no capabilities";
  EXPECT_EQ(rows[1][4], "created");
  EXPECT_EQ(rows[1][5], "-") << "no guest attached";
  EXPECT_EQ(rows[1][6], "4M");
  auto list = FromJson<v1::ListDomainsResponse>(Ok({"--json", "domains"}));
  ASSERT_EQ(list.domains_size(), 3);
  EXPECT_EQ(list.domains(2).name(), "client2");
  EXPECT_EQ(list.domains(2).id(), 3u);

  std::string created = Ok({"domain", "create", "extra", "--id", "9",
                            "--memory", "512"});
  EXPECT_TRUE(absl::StrContains(created, "created domain extra (id 9"));
  EXPECT_TRUE(absl::StrContains(created, "attach token: "));
  auto shown = FromJson<v1::Domain>(Ok({"domain", "show", "9", "--json"}));
  EXPECT_EQ(shown.name(), "extra");
  EXPECT_EQ(shown.memory_frames(), 512u);
  EXPECT_TRUE(absl::StrContains(Ok({"domain", "show", "extra"}),
                                "memory:    2M (512 frames)"));
  Ok({"domain", "destroy", "extra"});
  RunResult gone = Ctl({"domain", "show", "extra"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(gone.err, "NOT_FOUND"));
  EXPECT_TRUE(absl::StrContains(gone.err, "no domain named \"extra\""));
}

// A domain the boot configuration created gets a token only by asking.
TEST_F(DaemonTest, DomainTokenPrintsAFreshTokenEachTime) {
  StartDaemon();
  const std::string first = Ok({"domain", "token", "client1"});
  ASSERT_EQ(first.size(), 33u) << first;  // 32 hex digits and a newline
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), 32u) << first;
  auto json = FromJson<v1::IssueAttachTokenResponse>(
      Ok({"--json", "domain", "token", "2"}));
  EXPECT_EQ(json.attach_token().size(), 32u);
  EXPECT_NE(json.attach_token() + "\n", first);
  EXPECT_EQ(json.domain().name(), "client1");
  RunResult ghost = Ctl({"domain", "token", "ghost"});
  EXPECT_EQ(ghost.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(ghost.err, "NOT_FOUND"));
  EXPECT_TRUE(absl::StrContains(ghost.err, "no domain named \"ghost\""));
  EXPECT_EQ(Ctl({"domain", "token"}).exit_code, 2);
}

TEST_F(DaemonTest, WatchKnowsTheGuestEventKinds) {
  StartDaemon();
  RunResult quiet = Ctl({"watch", "--kind", "guest_attached", "--kind",
                         "guest_detached", "--kind", "domain_crashed", "--for",
                         "0.5"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  RunResult bad = Ctl({"watch", "--kind", "guest_exploded"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(
      bad.err, "guest_attached, guest_detached, domain_crashed"))
      << bad.err;
  EXPECT_TRUE(absl::StrContains(Ok({"topology"}), "attach:   "));
}

TEST_F(DaemonTest, CablesExplainRingsStats) {
  StartDaemon();
  auto cables = Table(Ok({"cables", "client1"}));
  ASSERT_EQ(cables.size(), 4u);  // header, storage:80, client1:7, client1:9
  EXPECT_EQ(cables[0][0], "FROM");
  Ok({"connect", "client2:20", "parent:5", "--one-way"});
  auto listed = FromJson<v1::ListCablesResponse>(Ok({"cables", "--json"}));
  EXPECT_EQ(listed.cables_size(), 6);
  bool parent_seen = false;
  for (const v1::Cable& c : listed.cables()) {
    if (c.to().parent()) parent_seen = c.from().resolved_name() == "client2";
  }
  EXPECT_TRUE(parent_seen);
  std::string removed = Ok({"disconnect", "client2:20"});
  EXPECT_TRUE(absl::StrContains(removed, "uncabled client2:20 -> parent:5"));

  std::string explain = Ok({"explain", "client1:7"});
  EXPECT_TRUE(absl::StrContains(explain, "route:   client1:7 -> storage:80"));
  EXPECT_TRUE(absl::StrContains(explain, "refused with ECONNREFUSED"));
  EXPECT_TRUE(absl::StrContains(explain, "(ring check)")) << explain;
  auto e = FromJson<v1::Explanation>(Ok({"--json", "explain", "client1:7"}));
  EXPECT_EQ(e.error(), "ECONNREFUSED");
  EXPECT_EQ(e.decided_by(), "ring");
  EXPECT_EQ(e.to().resolved_name(), "storage");
  auto sized = FromJson<v1::Explanation>(
      Ok({"--json", "explain", "client1:7", "--size", "9000"}));
  EXPECT_EQ(sized.decided_by(), "ring") << "no ring: size is not reached";
  RunResult bad_size = Ctl({"explain", "client1:7", "--size", "lots"});
  EXPECT_EQ(bad_size.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad_size.err, "--size takes a number"));

  auto rings = FromJson<v1::ListRingsResponse>(Ok({"rings", "--json"}));
  EXPECT_EQ(rings.rings_size(), 0);  // no guest has registered a ring
  EXPECT_EQ(Table(Ok({"rings"}))[0][0], "OWNER");
  auto stats = FromJson<v1::Stats>(Ok({"stats", "--json"}));
  EXPECT_EQ(stats.domains(), 3u);
  EXPECT_EQ(stats.cables(), 5u);
  auto topology = FromJson<v1::Topology>(Ok({"topology", "--json"}));
  EXPECT_EQ(topology.level(), 0u);
}

TEST_F(DaemonTest, ListsFollowEveryPage) {
  StartDaemon();
  // Five cables and three domains: with pages of two (or one) argoctl must
  // follow the daemon's page tokens to print them all, tables and --json.
  const std::string whole = Ok({"cables"});
  auto rows = Table(Ok({"cables", "--page-size", "2"}));
  ASSERT_EQ(rows.size(), 6u) << "header and five cables";
  EXPECT_EQ(Ok({"cables", "--page-size", "2"}), whole);
  auto cables = FromJson<v1::ListCablesResponse>(
      Ok({"--json", "cables", "--page-size", "2"}));
  EXPECT_EQ(cables.cables_size(), 5);
  EXPECT_EQ(cables.next_page_token(), "");
  std::vector<std::string> sources;
  for (const v1::Cable& c : cables.cables()) {
    sources.push_back(
        absl::StrCat(c.from().resolved_id(), ":", c.from().port()));
  }
  EXPECT_EQ(sources, (std::vector<std::string>{"1:80", "1:81", "2:7", "2:9",
                                               "3:7"}));
  rows = Table(Ok({"domains", "--page-size", "1"}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3][1], "client2");
  auto domains = FromJson<v1::ListDomainsResponse>(
      Ok({"domains", "--json", "--page-size", "1"}));
  EXPECT_EQ(domains.domains_size(), 3);
  EXPECT_EQ(Table(Ok({"rings", "--page-size", "1"})).size(), 1u);
  EXPECT_TRUE(absl::StrContains(Ok({"policy", "audit", "--page-size", "3"}),
                                "0 denials"));
  RunResult bad = Ctl({"domains", "--page-size", "zero"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad.err, "--page-size")) << bad.err;
}

TEST_F(DaemonTest, StrictPolicyMakesExplainReportADenial) {
  StartDaemon();
  const std::string strict =
      testing::RunfilePath("implicit_dest/policy/strict.textproto");
  EXPECT_TRUE(absl::StrContains(Ok({"policy", "load", strict}),
                                "types: dom0_t, storage_t, client_t"));
  Ok({"policy", "relabel", "storage", "storage_t"});
  std::string explain = Ok({"explain", "client1:9"});
  EXPECT_TRUE(absl::StrContains(explain, "refused with EACCES")) << explain;
  auto e = FromJson<v1::Explanation>(Ok({"explain", "client1:9", "--json"}));
  EXPECT_FALSE(e.delivered());
  EXPECT_EQ(e.error(), "EACCES");
  auto info = FromJson<v1::PolicyInfo>(Ok({"policy", "show", "--json"}));
  EXPECT_EQ(info.generation(), 2u);
  EXPECT_TRUE(absl::StrContains(Ok({"policy", "audit"}), "0 denials"));
  RunResult bad = Ctl({"policy", "relabel", "storage", "nope_t"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "INVALID_ARGUMENT"));
}

TEST_F(DaemonTest, ApplyIsAtomicAndNamesTheLine) {
  StartDaemon();
  const std::string bad = dir_ + "/bad.textproto";
  std::ofstream(bad) << "domain { name: \"new1\" }\n"
                        "domain { name: \"new2\" label: \"nope_t\" }\n";
  RunResult r = Ctl({"apply", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "bad.textproto:2:")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "nope_t"));
  EXPECT_EQ(Table(Ok({"domains"})).size(), 4u);  // nothing was added
  const std::string good = dir_ + "/good.textproto";
  std::ofstream(good) << "domain { name: \"new1\" }\n"
                         "cable { from: \"new1:1\" to: \"storage:90\" }\n";
  std::string applied = Ok({"apply", good});
  EXPECT_TRUE(absl::StrContains(applied, "created domain new1"));
  EXPECT_TRUE(absl::StrContains(applied, "cabled new1:1 -> storage:90"));
}

TEST_F(DaemonTest, WatchStreamsJsonLines) {
  StartDaemon();
  RunResult watched;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    watched = Ctl({"watch", "--json", "--kind", "domain_created", "--count",
                   "2", "--for", "60"});
    done = true;
  });
  // Keep creating until the watcher (subscribed at some point) has two.
  for (int i = 0; i < 400 && !done; ++i) {
    Ctl({"domain", "create", absl::StrCat("w", i)});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  watcher.join();
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  std::vector<std::string> lines =
      absl::StrSplit(watched.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << watched.out;
  for (const std::string& line : lines) {
    auto event = FromJson<v1::Event>(line);
    EXPECT_EQ(event.kind(), v1::Event::DOMAIN_CREATED);
    EXPECT_TRUE(absl::StartsWith(event.domain().name(), "w"));
  }
}

TEST_F(DaemonTest, ExitCodesSeparateUsageFromServerErrors) {
  StartDaemon();
  EXPECT_EQ(Ctl({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Ctl({"connect", "client1:7"}).exit_code, 2);
  EXPECT_EQ(Ctl({"connect", "client1", "storage:1"}).exit_code, 2);
  EXPECT_EQ(Ctl({"domains", "--bogus"}).exit_code, 2);
  RunResult server = Ctl({"connect", "client1:7", "storage:1"});
  EXPECT_EQ(server.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(server.err, "ALREADY_EXISTS"));
  RunResult help = Ctl({"connect", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(help.out, "usage: argoctl connect FROM TO"));
  RunResult all = Ctl({"--help"});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(all.out, "exit codes"));
  RunResult nowhere = RunProcess({argoctl_, "--socket", dir_ + "/none.sock",
                           "--timeout", "2", "domains"});
  EXPECT_EQ(nowhere.exit_code, 3);
  EXPECT_TRUE(absl::StrContains(nowhere.err, "cannot reach argo-hv"));
}

// Guests as processes against the real daemon (DESIGN §8): argo-guest
// attaches with a token from argoctl, sends naming only its source port,
// a SIGKILLed guest is a crash (rings gone, cables kept), a new process
// re-attaches, and destroying an attached domain evicts its process.
TEST_F(DaemonTest, GuestProcessesAttachTalkCrashAndAreEvicted) {
  StartDaemon();
  const std::string attach = dir_ + "/run/hv-attach.sock";
  EXPECT_TRUE(absl::StrContains(Ok({"topology"}), attach)) << Ok({"topology"});
  const std::string argo_guest = testing::RunfilePath("guest/cli/argo-guest");
  auto token = [&](const std::string& domain) {
    return std::string(absl::StripAsciiWhitespace(Ok({"domain", "token", domain})));
  };
  const std::string storage_token = token("storage");
  const std::string client_token = token("client1");
  auto guest_argv = [&](const std::string& domain, const std::string& t,
                        std::vector<std::string> command) {
    std::vector<std::string> argv = {argo_guest, "--socket", attach,
                                     "--domain", domain, "--token", t};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  };
  // A listener left running, its stdout in `out`.
  auto listener = [&](const std::string& out) {
    std::vector<std::string> argv = {"/bin/sh", "-c",
                                     "exec \"$0\" \"$@\" > " + out};
    for (const std::string& a :
         guest_argv("storage", storage_token, {"listen", "--port", "80"})) {
      argv.push_back(a);
    }
    return std::make_unique<Daemon>(argv, dir_ + "/listener.log");
  };
  auto wait_for = [&](const std::vector<std::string>& args,
                      const std::string& text, bool present) {
    for (int i = 0; i < 1000; ++i) {
      if (absl::StrContains(Ok(args), text) == present) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };

  const std::string out = dir_ + "/listen.out";
  auto storage = listener(out);
  ASSERT_TRUE(wait_for({"domain", "show", "storage"}, "running", true));
  EXPECT_TRUE(absl::StrContains(Ok({"domain", "show", "storage"}), absl::StrCat(storage->pid()))) << Ok({"domain", "show", "storage"});

  RunResult sent = RunProcess(
      guest_argv("client1", client_token, {"send", "--port", "7", "hello e2e"}));
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  for (int i = 0; i < 1000 && !absl::StrContains(testing::ReadFile(out),
                                                 "hello e2e");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(out), "from 2:7 type 0 len 9: hello e2e")) << testing::ReadFile(out);

  RunResult uncabled = RunProcess(
      guest_argv("client1", client_token, {"send", "--port", "8", "x"}));
  EXPECT_EQ(uncabled.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(uncabled.err, "ECONNREFUSED")) << uncabled.err;
  RunResult bad_token =
      RunProcess(guest_argv("client1", "0123abcd", {"send", "--port", "7", "x"}));
  EXPECT_EQ(bad_token.exit_code, 3);
  EXPECT_TRUE(absl::StrContains(bad_token.err, "token")) << bad_token.err;
  // A second process for an attached domain is refused.
  RunResult busy = RunProcess(
      guest_argv("storage", storage_token, {"send", "--port", "80", "x"}));
  EXPECT_EQ(busy.exit_code, 3);

  // SIGKILL: a crash. The ring goes, the cable stays.
  EXPECT_EQ(storage->Stop(SIGKILL), -1);
  ASSERT_TRUE(wait_for({"domain", "show", "storage"}, "created", true));
  EXPECT_FALSE(absl::StrContains(Ok({"rings", "storage"}), "storage "));
  EXPECT_TRUE(absl::StrContains(Ok({"cables", "storage"}), "storage:80")) << Ok({"cables", "storage"});

  // A new process attaches with the same token and is served.
  auto again = listener(dir_ + "/listen2.out");
  ASSERT_TRUE(wait_for({"domain", "show", "storage"}, "running", true));
  // Destroying the domain evicts it: its argo-guest sees argo-hv go (3).
  Ok({"domain", "destroy", "storage"});
  EXPECT_EQ(again->Wait(), 3);
}

// Traffic capture end to end (docs/capture.md): argoctl capture -w writes
// pcapng while argo-guest sends, and tshark with the shipped dissector
// reads every field back; the text form; another uid cannot capture.
TEST_F(DaemonTest, CaptureWritesPcapngThatTsharkReadsWithTheDissector) {
  StartDaemon();
  const std::string attach = dir_ + "/run/hv-attach.sock";
  const std::string argo_guest = testing::RunfilePath("guest/cli/argo-guest");
  const std::string token = std::string(
      absl::StripAsciiWhitespace(Ok({"domain", "token", "client1"})));
  const std::string pcap = dir_ + "/trace.pcapng";
  const std::string capture_log = dir_ + "/capture.log";
  Daemon capture({argoctl_, "--socket", socket_, "capture", "--refused",
                  "--count", "2", "-w", pcap},
                 capture_log);
  for (int i = 0; i < 1000 && !absl::StrContains(testing::ReadFile(capture_log),
                                                 "capturing");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto send = [&](std::vector<std::string> command) {
    std::vector<std::string> argv = {argo_guest, "--socket", attach, "--domain",
                                     "client1", "--token", token};
    argv.insert(argv.end(), command.begin(), command.end());
    return RunProcess(argv);
  };
  EXPECT_EQ(send({"send", "--port", "8", "--type", "5", "uncabled"}).exit_code, 1);
  EXPECT_EQ(send({"send", "--port", "7", "--to", "1:80", "explicit"}).exit_code, 1);
  EXPECT_EQ(capture.Wait(), 0);
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(capture_log),
                                "2 messages captured, 0 dropped"))
      << testing::ReadFile(capture_log);

  // tshark, with the dissector, and no personal configuration.
  const std::string home = dir_ + "/home";
  mkdir(home.c_str(), 0700);
  RunResult read = RunProcess(
      {"/usr/bin/env", "HOME=" + home, "/usr/bin/tshark", "-r", pcap, "-X",
       "lua_script:" + testing::RunfilePath("tools/wireshark/argo.lua"), "-T",
       "fields", "-E", "separator=,", "-e", "argo.src_domid", "-e",
       "argo.src_port", "-e", "argo.dst_domid", "-e", "argo.dst_port", "-e",
       "argo.msg_type", "-e", "argo.errno", "-e", "argo.flags.implicit", "-e",
       "argo.payload_len", "-e", "data.data"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  const std::vector<std::string> lines =
      absl::StrSplit(absl::StripAsciiWhitespace(read.out), '\n');
  ASSERT_EQ(lines.size(), 2u) << read.out;
  // "uncabled" / "explicit" in hex; 32760 = ARGO_DOMID_IMPLICIT (unresolved).
  EXPECT_EQ(lines[0], "2,8,32760,0,5,111,1,8,756e6361626c6564");
  EXPECT_EQ(lines[1], "2,7,1,80,0,111,0,8,6578706c69636974");
}

// Issue 10 end to end: a boot configuration that lists policy modules and
// gives a domain a capability; argoctl's module, check, why and suggest
// commands; the launch log saved with --json and verified offline (a
// tampered copy fails); then SILO loaded from silo.textproto: a domU to
// domU send refused, a domU to the capable domain delivered, between real
// argo-guest processes.
TEST_F(DaemonTest, ModulesCapabilitiesPolicyToolsMeasurementsAndSilo) {
  const std::string boot = dir_ + "/boot.textproto";
  {
    std::ofstream f(boot);
    f << "policy_modules: [\"core\", \"storage\"]\n"
         "domain { name: \"xs\" label: \"dom0_t\" capabilities: "
         "[\"xenstore\"] }\n"
         "domain { name: \"store\" label: \"storage_t\" }\n"
         "domain { name: \"c1\" label: \"client_t\" }\n"
         "domain { name: \"c2\" label: \"client_t\" }\n"
         "cable { from: \"c1:7\" to: \"c2:80\" one_way: true }\n"
         "cable { from: \"c1:8\" to: \"xs:80\" one_way: true }\n";
  }
  StartDaemon({"--config", boot});

  // The start line's register is the log's after the configuration.
  const std::string log = testing::ReadFile(Log());
  const size_t at = log.find("measurements: register ");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string start_register = log.substr(at + 23, 64);
  EXPECT_EQ(start_register.find_first_not_of("0123456789abcdef"),
            std::string::npos)
      << start_register;
  const std::string measured = Ok({"measurements"});
  EXPECT_TRUE(absl::StrContains(measured, "register: " + start_register))
      << measured;
  EXPECT_TRUE(absl::StrContains(measured, "capability     domain 1 (xs): "
                                          "xenstore"))
      << measured;
  EXPECT_TRUE(absl::StrContains(measured, "policy-module  storage.textproto"))
      << measured;

  // Capabilities: the table's CAPS column, show, create --cap.
  auto rows = Table(Ok({"domains"}));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0][3], "CAPS");
  EXPECT_EQ(rows[1][1], "xs");
  EXPECT_EQ(rows[1][3], "xenstore");
  EXPECT_EQ(rows[2][3], "-");
  EXPECT_TRUE(
      absl::StrContains(Ok({"domain", "show", "xs"}), "caps:      xenstore"));
  EXPECT_TRUE(absl::StrContains(
      Ok({"domain", "create", "ctl", "--cap", "control", "--cap", "hardware"}),
      "capabilities control,hardware"));
  auto ctl = FromJson<v1::Domain>(Ok({"--json", "domain", "show", "ctl"}));
  ASSERT_EQ(ctl.capabilities_size(), 2);
  EXPECT_EQ(ctl.capabilities(1), "hardware");
  RunResult bad_cap = Ctl({"domain", "create", "x", "--cap", "control,root"});
  EXPECT_EQ(bad_cap.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad_cap.err, "\"root\" is not a capability"))
      << bad_cap.err;

  // Modules.
  rows = Table(Ok({"policy", "modules"}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1][0], "core");
  EXPECT_EQ(rows[1][1], "yes");
  EXPECT_EQ(rows[2][0], "storage");
  EXPECT_EQ(rows[2][1], "yes");
  EXPECT_EQ(rows[3][1], "no");
  const std::string logger = dir_ + "/logger.textproto";
  {
    std::ofstream f(logger);
    f << "types: \"logger_t\"\n"
         "allow { source: \"client_t\" target: \"logger_t\" permissions: "
         "[SEND] }\n";
  }
  EXPECT_TRUE(absl::StrContains(Ok({"policy", "module", "add", logger}),
                                "added policy module logger"));
  RunResult again = Ctl({"policy", "module", "add", logger});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(again.err, "ALREADY_EXISTS")) << again.err;
  EXPECT_TRUE(absl::StrContains(Ok({"policy", "module", "enable", "logger"}),
                                "modules: core, storage, logger"));
  const std::string dup = dir_ + "/dup.textproto";
  {
    std::ofstream f(dup);
    f << "# declares storage's type again\ntypes: \"storage_t\"\n";
  }
  Ok({"policy", "module", "add", dup});
  const std::string before = Ok({"policy", "modules"});
  RunResult conflict = Ctl({"policy", "module", "enable", "dup"});
  EXPECT_EQ(conflict.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(conflict.err, "INVALID_ARGUMENT: dup.textproto:2:"))
      << conflict.err;
  EXPECT_EQ(Ok({"policy", "modules"}), before) << "a conflict changes nothing";
  Ok({"policy", "module", "disable", "logger"});
  auto modules = FromJson<v1::ListPolicyModulesResponse>(
      Ok({"--json", "policy", "modules"}));
  EXPECT_TRUE(modules.modular());
  ASSERT_EQ(modules.modules_size(), 5);
  EXPECT_FALSE(modules.modules(3).enabled());

  // policy check: exit codes like grep.
  RunResult allowed = Ctl({"policy", "check", "c1", "store", "SEND"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_TRUE(absl::StartsWith(allowed.out,
                               "allowed: rule at storage.textproto:"))
      << allowed.out;
  RunResult denied = Ctl({"policy", "check", "c1", "c2", "SEND"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_EQ(denied.out,
            "denied: no allow rule grants SEND from client_t to client_t\n");
  EXPECT_EQ(Ctl({"policy", "check", "client_t", "storage_t", "send"}).exit_code,
            0);
  EXPECT_EQ(Ctl({"policy", "check", "c1", "xen", "ENABLE"}).exit_code, 0);
  EXPECT_EQ(Ctl({"policy", "check", "c1", "c2", "FLY"}).exit_code, 2);
  EXPECT_EQ(Ctl({"policy", "check", "c1", "c2"}).exit_code, 2);
  auto checked = FromJson<v1::CheckPermissionResponse>(
      Ctl({"--json", "policy", "check", "c1", "c2", "SEND"}).out);
  EXPECT_FALSE(checked.allowed());
  EXPECT_EQ(checked.source_type(), "client_t");

  // A real denial from a guest process, then why and suggest.
  const std::string attach = dir_ + "/run/hv-attach.sock";
  const std::string argo_guest = testing::RunfilePath("guest/cli/argo-guest");
  auto token = [&](const std::string& domain) {
    return std::string(
        absl::StripAsciiWhitespace(Ok({"domain", "token", domain})));
  };
  const std::string c1_token = token("c1");
  auto send = [&](const std::string& port, const std::string& text) {
    return RunProcess({argo_guest, "--socket", attach, "--domain", "c1",
                       "--token", c1_token, "send", "--port", port, text});
  };
  RunResult refused = send("7", "to c2");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(refused.err, "EACCES")) << refused.err;
  const std::string why = Ok({"policy", "why"});
  EXPECT_TRUE(absl::StrContains(why, "missing: SEND from client_t to client_t"))
      << why;
  EXPECT_TRUE(absl::StrContains(why, "rule:    allow {")) << why;
  auto why_json =
      FromJson<v1::DenialExplanations>(Ok({"--json", "policy", "why"}));
  ASSERT_EQ(why_json.explanations_size(), 1);
  EXPECT_EQ(why_json.explanations(0).denial().permission(), "SEND");
  const std::string suggested = Ok({"policy", "suggest"});
  EXPECT_TRUE(absl::StrContains(suggested, "target: \"client_t\""))
      << suggested;
  EXPECT_EQ(Ctl({"policy", "check", "c1", "c2", "SEND"}).exit_code, 1)
      << "suggest loads nothing";

  // SILO: relabel everyone to the SILO policy's one type, then load it.
  for (const char* d : {"xs", "store", "c1", "c2"}) {
    Ok({"policy", "relabel", d, "domain_t"});
  }
  Ok({"policy", "load",
      testing::RunfilePath("implicit_dest/policy/silo.textproto")});
  EXPECT_TRUE(Ok({"--json", "policy", "modules"}).find("\"modular\": true") ==
              std::string::npos)
      << "a whole policy leaves modular mode";
  auto listener = [&](const std::string& domain, const std::string& out) {
    std::vector<std::string> argv = {
        "/bin/sh", "-c", "exec \"$0\" \"$@\" > " + out, argo_guest,
        "--socket", attach, "--domain", domain, "--token", token(domain),
        "listen", "--port", "80"};
    return std::make_unique<Daemon>(argv, dir_ + "/" + domain + ".log");
  };
  auto wait_running = [&](const std::string& domain) {
    for (int i = 0; i < 1000; ++i) {
      if (absl::StrContains(Ok({"domain", "show", domain}), "running")) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  auto c2 = listener("c2", dir_ + "/c2.out");
  auto xs = listener("xs", dir_ + "/xs.out");
  ASSERT_TRUE(wait_running("c2"));
  ASSERT_TRUE(wait_running("xs"));
  RunResult silo = send("7", "domU to domU");
  EXPECT_EQ(silo.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(silo.err, "EACCES")) << silo.err;
  RunResult service = send("8", "domU to xenstore");
  EXPECT_EQ(service.exit_code, 0) << service.err;
  for (int i = 0; i < 1000 && !absl::StrContains(testing::ReadFile(dir_ + "/xs.out"),
                                                 "domU to xenstore");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(dir_ + "/xs.out"),
                                "domU to xenstore"));
  EXPECT_FALSE(absl::StrContains(testing::ReadFile(dir_ + "/c2.out"),
                                 "domU to domU"));
  RunResult silo_check = Ctl({"policy", "check", "c1", "c2", "SEND"});
  EXPECT_EQ(silo_check.exit_code, 1);
  EXPECT_TRUE(absl::StartsWith(silo_check.out, "denied: SILO mode:"))
      << silo_check.out;
  EXPECT_EQ(Ctl({"policy", "check", "c1", "xs", "SEND"}).exit_code, 0);
  EXPECT_TRUE(absl::StrContains(Ok({"policy", "why"}), "SILO mode"));

  // The launch log: saved, verified offline (no daemon at this socket),
  // and a tampered copy refused.
  const std::string saved = dir_ + "/saved.json";
  const std::string json = Ok({"measurements", "--json"});
  {
    std::ofstream f(saved);
    f << json;
  }
  EXPECT_TRUE(absl::StrContains(json, "\"kind\":\"relabel\","
                                      "\"description\":\"domain 3 -> "
                                      "domain_t\""))
      << json;
  EXPECT_TRUE(absl::StrContains(json, "silo.textproto")) << json;
  RunResult offline =
      RunProcess({argoctl_, "--socket", dir_ + "/nothing.sock",
                  "measurements", "--verify", saved});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_TRUE(absl::StartsWith(offline.out, "OK: " + saved)) << offline.out;
  const size_t reg = json.find("\"register\":\"");
  ASSERT_NE(reg, std::string::npos);
  EXPECT_TRUE(absl::StrContains(offline.out, json.substr(reg + 12, 64)))
      << offline.out;
  std::string tampered = json;
  const size_t digest = tampered.rfind("\"digest\":\"");
  ASSERT_NE(digest, std::string::npos);
  char& c = tampered[digest + 10];
  c = c == '0' ? '1' : '0';
  {
    std::ofstream f(dir_ + "/tampered.json");
    f << tampered;
  }
  RunResult bad = RunProcess({argoctl_, "--socket", dir_ + "/nothing.sock",
                              "measurements", "--verify",
                              dir_ + "/tampered.json"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "tampered.json")) << bad.err;
  EXPECT_EQ(RunProcess({argoctl_, "measurements", "--verify",
                        dir_ + "/absent.json"})
                .exit_code,
            2);
}

TEST_F(DaemonTest, EveryCommandHasHelp) {
  // No daemon needed: help is local.
  for (const char* command :
       {"domains", "domain create", "domain destroy", "domain show",
        "domain token", "connect", "capture",
        "disconnect", "cables", "explain", "rings", "stats", "policy load",
        "policy show", "policy relabel", "policy audit", "watch", "topology",
        "apply", "policy modules", "policy module add", "policy module enable",
        "policy module disable", "policy check", "policy why",
        "policy suggest", "measurements"}) {
    std::vector<std::string> args = absl::StrSplit(command, ' ');
    args.push_back("--help");
    RunResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_TRUE(absl::StartsWith(r.out, absl::StrCat("usage: argoctl ", command)))
        << r.out;
    EXPECT_TRUE(absl::StrContains(Ctl({"--help"}).out, command)) << command;
  }
}

TEST_F(DaemonTest, CompletionAsksTheLiveDaemon) {
  StartDaemon();
  std::string domains = Ok({"__complete", "domains"});
  EXPECT_EQ(domains, "storage\nclient1\nclient2\n");
  std::string endpoints = Ok({"__complete", "endpoints"});
  EXPECT_TRUE(absl::StrContains(endpoints, "client1:\n"));
  EXPECT_TRUE(absl::StrContains(endpoints, "client1:7\n"));
  EXPECT_TRUE(absl::StrContains(endpoints, "parent:\n"));
  // The script itself, run by bash the way completion runs it.
  const std::string bin = dir_ + "/bin";
  mkdir(bin.c_str(), 0755);
  ASSERT_EQ(symlink(argoctl_.c_str(), (bin + "/argoctl").c_str()), 0);
  const std::string script = absl::StrCat(
      "export PATH=", bin, ":$PATH; source <(argoctl completion bash); ",
      "COMP_WORDS=(argoctl --socket ", socket_, " domain show c); ",
      "COMP_CWORD=5; _argoctl; echo \"${COMPREPLY[*]}\"");
  RunResult r = RunProcess({"/bin/bash", "-c", script});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "client1 client2\n");
}

TEST_F(DaemonTest, APeerWithAnotherUidIsRejected) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as nobody";
  StartDaemon();
  // A copy the other uid can execute (the runfiles tree is root's).
  const std::string ctl = dir_ + "/argoctl";
  ASSERT_EQ(RunProcess({"/bin/cp", argoctl_, ctl}).exit_code, 0);
  chmod(ctl.c_str(), 0755);
  // The socket's mode keeps it out first...
  RunResult denied = Ctl({"domains"}, kNobody, ctl);
  EXPECT_EQ(denied.exit_code, 3) << denied.err;
  // ...and with the mode opened up, SO_PEERCRED still refuses it.
  chmod((dir_ + "/run").c_str(), 0755);
  chmod(socket_.c_str(), 0666);
  RunResult refused = Ctl({"domains"}, kNobody, ctl);
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(Log()),
                                "refused a client with uid 65534"));
  // Capture too: the traffic is the owner's to see.
  RunResult capture = Ctl({"capture", "--count", "1", "--for", "1"}, kNobody, ctl);
  EXPECT_EQ(capture.exit_code, 3) << capture.err;
  EXPECT_EQ(Ctl({"domains"}).exit_code, 0);  // the owner still is served
}

TEST_F(DaemonTest, AnAllowedUidIsServed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run a child as nobody";
  StartDaemon({"--allow-uid", std::to_string(kNobody)});
  const std::string ctl = dir_ + "/argoctl";
  ASSERT_EQ(RunProcess({"/bin/cp", argoctl_, ctl}).exit_code, 0);
  chmod(ctl.c_str(), 0755);
  chmod((dir_ + "/run").c_str(), 0755);
  chmod(socket_.c_str(), 0666);
  RunResult served = Ctl({"domains"}, kNobody, ctl);
  EXPECT_EQ(served.exit_code, 0) << served.err;
}

TEST_F(DaemonTest, TwoDaemonsOnOneSocketAreRefused) {
  StartDaemon();
  RunResult second = RunProcess({argo_hv_, "--socket", socket_});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(second.err, "another argo-hv is serving"))
      << second.err;
  EXPECT_EQ(Ctl({"domains"}).exit_code, 0);  // the first is untouched
}

TEST_F(DaemonTest, SigtermAndSigintLeaveNoSocket) {
  for (int sig : {SIGTERM, SIGINT}) {
    StartDaemon();
    Ok({"domains"});
    EXPECT_EQ(daemon_->Stop(sig), 0);
    EXPECT_NE(access(socket_.c_str(), F_OK), 0) << "socket left behind";
    EXPECT_TRUE(absl::StrContains(testing::ReadFile(Log()), "argo-hv: stopped"));
  }
  // And a daemon killed outright leaves a stale socket the next one takes.
  StartDaemon();
  EXPECT_EQ(daemon_->Stop(SIGKILL), -1);
  EXPECT_EQ(access(socket_.c_str(), F_OK), 0);
  StartDaemon();
  Ok({"domains"});
}

TEST_F(DaemonTest, LoopbackTcpOnlyWhenAskedFor) {
  RunResult wide = RunProcess({argo_hv_, "--socket", socket_, "--tcp",
                               "0.0.0.0:0"});
  EXPECT_EQ(wide.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(wide.err, "is not loopback")) << wide.err;
  EXPECT_NE(access(socket_.c_str(), F_OK), 0) << "socket left behind";
  StartDaemon({"--tcp", "127.0.0.1:0"});
  const std::string log = testing::ReadFile(Log());
  const size_t at = log.find("(port ");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string port = log.substr(at + 6, log.find(')', at) - at - 6);
  RunResult over_tcp = RunProcess({argoctl_, "--socket",
                                   "127.0.0.1:" + port, "domains"});
  EXPECT_EQ(over_tcp.exit_code, 0) << over_tcp.err;
  EXPECT_TRUE(absl::StrContains(over_tcp.out, "storage"));
}

TEST_F(DaemonTest, ABadConfigStopsTheStartWithItsLine) {
  const std::string bad = dir_ + "/bad.textproto";
  std::ofstream(bad) << "# a comment\ncable { from: \"x:1\" to: \"nowhere\" }\n";
  RunResult r = RunProcess({argo_hv_, "--socket", socket_, "--config", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "bad.textproto:2:")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "cable.to"));
  EXPECT_NE(access(socket_.c_str(), F_OK), 0);
}

TEST_F(DaemonTest, ASymlinkedLockFileIsRefused) {
  const std::string run = dir_ + "/run";
  ASSERT_EQ(mkdir(run.c_str(), 0700), 0);
  const std::string victim = dir_ + "/victim";
  ASSERT_EQ(symlink(victim.c_str(), (socket_ + ".lock").c_str()), 0);
  RunResult r = RefusedStart({});
  EXPECT_EQ(r.exit_code, 1) << "started through a symlinked lock file";
  EXPECT_TRUE(absl::StrContains(
      r.err, "the lock file " + socket_ + ".lock is a symbolic link"))
      << r.err;
  EXPECT_NE(access(victim.c_str(), F_OK), 0) << "the link was followed";
  EXPECT_NE(access(socket_.c_str(), F_OK), 0) << "socket created";
  // Once the link is gone the daemon starts and makes a lock of its own.
  ASSERT_EQ(unlink((socket_ + ".lock").c_str()), 0);
  StartDaemon();
  struct stat st;
  ASSERT_EQ(lstat((socket_ + ".lock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(DaemonTest, AnExistingSocketDirectoryMustBeOwnerOnly) {
  const std::string run = dir_ + "/run";
  ASSERT_EQ(mkdir(run.c_str(), 0700), 0);
  for (mode_t mode : {0777, 0770, 0702}) {
    ASSERT_EQ(chmod(run.c_str(), mode), 0);
    RunResult r = RefusedStart({});
    EXPECT_EQ(r.exit_code, 1) << "started in a directory of mode " << mode;
    EXPECT_TRUE(absl::StrContains(
        r.err, absl::StrCat("the socket's directory ", run, " has mode 0",
                            absl::StrFormat("%o", mode))))
        << r.err;
    EXPECT_NE(access(socket_.c_str(), F_OK), 0) << "socket created";
    EXPECT_NE(access((socket_ + ".lock").c_str(), F_OK), 0) << "lock created";
  }
  if (geteuid() == 0) {
    // Owner-only, but someone else's.
    ASSERT_EQ(chmod(run.c_str(), 0700), 0);
    ASSERT_EQ(chown(run.c_str(), kNobody, kNobody), 0);
    RunResult r = RefusedStart({});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(absl::StrContains(r.err, "is owned by uid 65534")) << r.err;
    ASSERT_EQ(chown(run.c_str(), 0, 0), 0);
  }
  // An existing 0700 (or 0755) directory of the daemon's own is used.
  ASSERT_EQ(chmod(run.c_str(), 0755), 0);
  StartDaemon();
  Ok({"domains"});
  daemon_.reset();
  ASSERT_EQ(chmod(run.c_str(), 0700), 0);
  StartDaemon();
  Ok({"domains"});
}

TEST_F(DaemonTest, AnEmptyOrDirectoryPolicyStopsTheStart) {
  const std::string empty = dir_ + "/empty.textproto";
  std::ofstream(empty).close();
  RunResult r = RefusedStart({"--policy", empty});
  EXPECT_EQ(r.exit_code, 1) << "an empty --policy started a permissive daemon";
  EXPECT_TRUE(absl::StrContains(
      r.err, empty + ": is empty; an empty policy is not 'no policy'"))
      << r.err;
  EXPECT_NE(access(socket_.c_str(), F_OK), 0) << "socket left behind";
  const std::string comments = dir_ + "/comments.textproto";
  std::ofstream(comments) << "# types: \"a_t\"\n\n";
  r = RefusedStart({"--policy", comments});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "holds only blanks and comments"))
      << r.err;
  r = RefusedStart({"--policy", dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, dir_ + ": is a directory")) << r.err;
  r = RefusedStart({"--config", empty});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, empty + ": is empty")) << r.err;
  r = RefusedStart({"--config", dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "is a directory")) << r.err;
  // An empty value is not "not given".
  r = RefusedStart({"--policy", ""});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--policy needs a value")) << r.err;
  EXPECT_NE(access(socket_.c_str(), F_OK), 0) << "socket left behind";
  // @default names the embedded default explicitly.
  StartDaemon({"--policy", "@default"});
  EXPECT_TRUE(absl::StrContains(testing::ReadFile(Log()), "policy @default"));
  Ok({"domains"});
}

TEST_F(DaemonTest, ArgoctlRefusesEmptyPolicyAndConfigFilesBeforeSending) {
  StartDaemon();
  const std::string strict =
      testing::RunfilePath("implicit_dest/policy/strict.textproto");
  Ok({"policy", "load", strict});
  const std::string empty = dir_ + "/empty.textproto";
  std::ofstream(empty).close();
  RunResult r = Ctl({"policy", "load", empty});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, empty + ": is empty")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "use @default")) << r.err;
  r = Ctl({"policy", "load", dir_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, dir_ + ": is a directory")) << r.err;
  // Nothing reached the daemon: the strict policy is still in force.
  auto info = FromJson<v1::PolicyInfo>(Ok({"policy", "show", "--json"}));
  EXPECT_EQ(info.generation(), 2u);
  EXPECT_EQ(info.types_size(), 3);
  r = Ctl({"apply", empty});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, empty + ": is empty")) << r.err;
  EXPECT_EQ(Table(Ok({"domains"})).size(), 4u);
  // The way back to the default is explicit.
  EXPECT_TRUE(absl::StrContains(Ok({"policy", "load", "@default"}),
                                "loaded @default"));
  info = FromJson<v1::PolicyInfo>(Ok({"policy", "show", "--json"}));
  EXPECT_EQ(info.generation(), 3u);
}

}  // namespace
}  // namespace argo::toolstack
