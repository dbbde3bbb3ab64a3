// argo-guest as real processes against a level behind a real attach
// socket in this test process: domains 1 and 2 (the test authority takes
// ids only, which the CLI passes through), cable 1:7 <-> 2:10.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "argo_core/name_path.h"
#include "argo_core/public/argo_nesting.h"
#include "gtest/gtest.h"
#include "tests/guest/guest_world.h"
#include "tests/testing/subprocess.h"

namespace argo::guest {
namespace {

using ::argo::testing::GuestWorld;
using ::argo::testing::RunResult;

constexpr domid_t kA = GuestWorld::kA;
constexpr domid_t kB = GuestWorld::kB;

// A CLI left running (listen, pong) with stdout and stderr in files.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& dir)
      : out_(dir + "/out"), err_(dir + "/err") {
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      const int out = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, 1);
      dup2(err, 2);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The exit code, or -1 (signal) / -2 (still running after ~10 s).
  int Wait() {
    for (int i = 0; i < 1000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -2;
  }
  std::string out() const { return ::argo::testing::ReadFile(out_); }
  std::string err() const { return ::argo::testing::ReadFile(err_); }

 private:
  const std::string out_, err_;
  pid_t pid_ = -1;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.Start().ok());
    char tmpl[] = "/tmp/argo-guest-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const char* f : {"/out", "/err", "/payload"})
      unlink((dir_ + f).c_str());
    rmdir(dir_.c_str());
  }

  // argo-guest as domain `d` (with its token unless `token` is given).
  std::vector<std::string> Cli(domid_t d, std::vector<std::string> rest,
                               std::string token = "") {
    std::vector<std::string> argv = {
        ::argo::testing::RunfilePath("guest/cli/argo-guest"),
        "--socket",
        world_.socket_path(),
        "--domain",
        absl::StrCat(d),
        "--token",
        token.empty() ? GuestWorld::TokenFor(d) : token};
    argv.insert(argv.end(), rest.begin(), rest.end());
    return argv;
  }
  RunResult Run(domid_t d, std::vector<std::string> rest,
                std::string token = "") {
    return ::argo::testing::RunProcess(Cli(d, std::move(rest), token));
  }
  std::unique_ptr<Background> Start(domid_t d, std::vector<std::string> rest) {
    const uint32_t rings = RingCount(d);
    auto bg = std::make_unique<Background>(Cli(d, std::move(rest)), dir_);
    // Ready once its ring is registered.
    for (int i = 0; i < 1000 && RingCount(d) == rings; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GT(RingCount(d), rings) << bg->err();
    return bg;
  }
  uint32_t RingCount(domid_t d) {
    auto info = world_.hv().GetDomainInfo(d);
    return info.ok() ? info->ring_count : 0;
  }
  int Attaches() {
    int n = 0;
    for (const std::string& line : world_.harness().authority().log()) {
      n += absl::StartsWith(line, "attach ");
    }
    return n;
  }

  GuestWorld world_;
  std::string dir_;
};

TEST_F(CliTest, ListenPrintsWhatSendSentTextAndBinary) {
  // A wildcard ring: a unicast one (--from 2) goes with the first sender's
  // detach, which crash-resets domain 2 (Hypervisor::ResetDomain).
  auto listen = Start(kA, {"listen", "--port", "20", "--count", "2"});
  RunResult text =
      Run(kB, {"send", "--port", "5", "--to", "1:20", "--type", "3", "hello"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out, "");
  {
    std::ofstream f(dir_ + "/payload", std::ios::binary);
    f.write("\x00\xff", 2);
  }
  RunResult binary = Run(kB, {"--mode", "low-latency", "send", "--port", "5",
                              "--to", "1:20", "--file", dir_ + "/payload"});
  EXPECT_EQ(binary.exit_code, 0) << binary.err;
  EXPECT_EQ(listen->Wait(), 0) << listen->err();
  EXPECT_EQ(listen->out(),
            "from 2:5 type 3 len 5: hello\n"
            "from 2:5 type 0 len 2 hex: 00ff\n");
}

TEST_F(CliTest, ListenJsonLinesCarryEveryField) {
  auto listen = Start(kA, {"listen", "--port", "20", "--json", "--count", "2"});
  ASSERT_EQ(
      Run(kB, {"send", "--port", "5", "--to", "1:20", "say \"hi\""}).exit_code,
      0);
  ASSERT_EQ(Run(kB, {"send", "--port", "6", "--to", "1:20", "--size", "3",
                     "--type", "9"})
                .exit_code,
            0);
  EXPECT_EQ(listen->Wait(), 0) << listen->err();
  const std::vector<std::string> lines =
      absl::StrSplit(listen->out(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << listen->out();
  EXPECT_EQ(
      lines[0],
      R"({"src_domain":2,"src_port":5,"type":0,"len":8,"text":"say \"hi\""})");
  EXPECT_EQ(lines[1],
            R"({"src_domain":2,"src_port":6,"type":9,"len":3,"text":"abc"})");
}

// Places in kA's port 20 what a level's forwarder delivers for a message
// that came down from the parent through dom3:100 and dom5:20 (original
// type 9), then a PATH message whose block is three stray bytes.
void DeliverPathAndMalformed(Hypervisor& hv) {
  NamePath path;
  path.message_type = 9;
  path.dst_port = 7;
  path.depth = 2;
  path.hops[0] = xen_argo_addr_t{100, 3, 0};
  path.hops[1] = xen_argo_addr_t{20, 5, 0};
  uint8_t block[ARGO_PATH_MAX_BYTES];
  const uint32_t n = WriteNamePath(path, block);
  const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
  const MessagePart parts[] = {{block, n}, {hello, sizeof(hello)}};
  const xen_argo_addr_t from_parent{7, ARGO_DOMID_PARENT, 0};
  const xen_argo_addr_t to{20, kA, 0};
  EXPECT_EQ(hv.DeliverFromHost(
                HostMessage{from_parent, to, ARGO_MSG_TYPE_PATH, parts}),
            n + 5);
  const uint8_t stray[] = {1, 2, 3};
  const MessagePart bad[] = {{stray, sizeof(stray)}};
  EXPECT_EQ(
      hv.DeliverFromHost(HostMessage{from_parent, to, ARGO_MSG_TYPE_PATH, bad}),
      3);
}

TEST_F(CliTest, ListenPrintsThePathOfAMessageFromAnotherLevel) {
  auto listen = Start(kA, {"listen", "--port", "20", "--count", "3"});
  DeliverPathAndMalformed(world_.hv());
  // Listening goes on after the malformed one.
  ASSERT_EQ(Run(kB, {"send", "--port", "5", "--to", "1:20", "after"}).exit_code,
            0);
  EXPECT_EQ(listen->Wait(), 0) << listen->err();
  EXPECT_EQ(listen->out(),
            "from parent:7 path dom3:100/dom5:20 type 9 len 5: hello\n"
            "from parent:7 malformed path block type 1213481296 len 3 hex: "
            "010203\n"
            "from 2:5 type 0 len 5: after\n");
}

TEST_F(CliTest, ListenJsonCarriesThePath) {
  auto listen = Start(kA, {"listen", "--port", "20", "--json", "--count", "2"});
  DeliverPathAndMalformed(world_.hv());
  EXPECT_EQ(listen->Wait(), 0) << listen->err();
  EXPECT_EQ(listen->out(),
            R"({"src_domain":32761,"src_port":7,"type":9,)"
            R"("path":[{"domid":3,"port":100},{"domid":5,"port":20}],)"
            R"("dst_port":7,"len":5,"text":"hello"})"
            "\n"
            R"({"src_domain":32761,"src_port":7,"type":1213481296,)"
            R"("malformed_path":true,"len":3,"hex":"010203"})"
            "\n");
}

TEST_F(CliTest, ImplicitSendFollowsTheCable) {
  auto listen = Start(kB, {"listen", "--port", "10", "--count", "1"});
  RunResult sent = Run(kA, {"send", "--port", "7", "cabled"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(listen->Wait(), 0);
  EXPECT_EQ(listen->out(), "from 1:7 type 0 len 6: cabled\n");
}

TEST_F(CliTest, RefusedSendsExitOneWithTheWordedError) {
  RunResult missing = Run(kB, {"send", "--port", "5", "--to", "1:99", "x"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err,
            "argo-guest: ECONNREFUSED: no ring at 1:99 takes messages from "
            "this domain\n");
  RunResult uncabled = Run(kB, {"send", "--port", "7", "x"});
  EXPECT_EQ(uncabled.exit_code, 1);
  EXPECT_EQ(uncabled.err, "argo-guest: ECONNREFUSED: port 7 is not cabled\n");
}

TEST_F(CliTest, BadTokenExitsThreeWithTheReason) {
  RunResult r = Run(kB, {"send", "--port", "5", "--to", "1:20", "x"}, "abcdef");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "argo-guest: cannot attach to domain 2 at " +
                       world_.socket_path() + ": wrong attach token\n");
}

TEST_F(CliTest, TokenMayComeFromTheEnvironment) {
  auto listen = Start(kA, {"listen", "--port", "20", "--count", "1"});
  setenv("ARGO_GUEST_TOKEN", GuestWorld::TokenFor(kB).c_str(), 1);
  std::vector<std::string> argv = {
      ::argo::testing::RunfilePath("guest/cli/argo-guest"),
      "--socket",
      world_.socket_path(),
      "--domain",
      "2",
      "send",
      "--port",
      "5",
      "--to",
      "1:20",
      "env"};
  RunResult r = ::argo::testing::RunProcess(argv);
  unsetenv("ARGO_GUEST_TOKEN");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(listen->Wait(), 0);
  EXPECT_EQ(listen->out(), "from 2:5 type 0 len 3: env\n");
}

TEST_F(CliTest, UsageErrorsExitTwoAndAttachNothing) {
  const std::vector<std::vector<std::string>> bad = {
      {"send", "--to", "1:20", "x"},                   // no --port
      {"send", "--port", "5", "--to", "one:20", "x"},  // names are not ids
      {"send", "--port", "5", "x", "--size", "3"},     // two payloads
      {"send", "--port", "5", "--bogus", "x"},
      {"listen", "--port", "20", "--from", "nobody"},
      {"ping", "--port", "5", "--count", "0"},
      {"dance"},
      {},
  };
  for (const auto& args : bad) {
    RunResult r = Run(kB, args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "argo-guest: ")) << r.err;
  }
  RunResult no_domain = ::argo::testing::RunProcess(
      {::argo::testing::RunfilePath("guest/cli/argo-guest"), "send", "--port",
       "5", "x"});
  EXPECT_EQ(no_domain.exit_code, 2);
  EXPECT_EQ(Attaches(), 0);
}

TEST_F(CliTest, HelpExitsZero) {
  RunResult r = ::argo::testing::RunProcess(
      {::argo::testing::RunfilePath("guest/cli/argo-guest"), "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "ARGO_GUEST_TOKEN"));
  RunResult listen = ::argo::testing::RunProcess(
      {::argo::testing::RunfilePath("guest/cli/argo-guest"), "listen",
       "--help"});
  EXPECT_EQ(listen.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(
      listen.out, "from parent:7 path dom3:100/dom5:20 type 9 len 5: hello"))
      << listen.out;
  EXPECT_TRUE(absl::StrContains(listen.out, "malformed path block"));
  RunResult ping = ::argo::testing::RunProcess(
      {::argo::testing::RunfilePath("guest/cli/argo-guest"), "ping", "--help"});
  EXPECT_EQ(ping.exit_code, 0);
  EXPECT_TRUE(
      absl::StartsWith(ping.out, "usage: argo-guest [GLOBAL OPTIONS] ping"));
}

void ExpectPercentiles(const RunResult& r, const std::string& first_line) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_EQ(lines[0], first_line);
  const char* names[] = {"p50 ", "p90 ", "p99 ", "max "};
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(absl::StartsWith(lines[1 + i], names[i])) << lines[1 + i];
    EXPECT_TRUE(absl::StrContains(lines[1 + i], " us")) << lines[1 + i];
    EXPECT_TRUE(absl::EndsWith(lines[1 + i], " CPUID")) << lines[1 + i];
  }
  EXPECT_TRUE(absl::StartsWith(lines[5], "CPUID ")) << lines[5];
}

TEST_F(CliTest, PingPongReportsPercentiles) {
  auto pong =
      Start(kB, {"pong", "--port", "10", "--from", "1", "--count", "5"});
  RunResult ping = Run(kA, {"ping", "--port", "20", "--to", "2:10", "--count",
                            "5", "--size", "32"});
  ExpectPercentiles(ping, "5 round trips of 32 bytes to 2:10");
  EXPECT_EQ(pong->Wait(), 0) << pong->err();
}

// 300 pings: stamps 128..255 have a byte >= 0x80 (a reply once failed to
// match its ping there, comparing bytes as signed chars).
TEST_F(CliTest, PingPongOverTheCable) {
  auto pong =
      Start(kB, {"pong", "--port", "10", "--implicit", "--count", "300"});
  RunResult ping = Run(kA, {"ping", "--port", "7", "--count", "300"});
  ExpectPercentiles(ping, "300 round trips of 64 bytes to port 7's cable");
  EXPECT_EQ(pong->Wait(), 0) << pong->err();
}

}  // namespace
}  // namespace argo::guest
