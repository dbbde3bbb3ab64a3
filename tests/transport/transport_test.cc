// The guest transport end to end inside one process: a real attach socket,
// the io_uring server and guest attachments in both modes, over a real
// hypervisor. (Cross-process behaviour: tests/transport/guest_process_test.)
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "argo_core/guest/argo_guest.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/argo_nesting.h"
#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"
#include "tests/testing/transport_harness.h"
#include "transport/virq_sockets.h"
#include "transport/wire.h"

namespace argo::testing {
namespace {

using transport::Mode;

constexpr domid_t kA = 1;
constexpr domid_t kB = 2;

class TransportTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    absl::Status started = world_.Start(kB, 512);
    ASSERT_TRUE(started.ok()) << started;
  }
  void TearDown() override { world_.Stop(); }

  std::unique_ptr<guest::Attachment> MustAttach(domid_t d) {
    auto a = world_.harness->Attach(d, GetParam());
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *std::move(a) : nullptr;
  }
  std::unique_ptr<ArgoGuest> GuestOn(guest::Attachment& a) {
    auto g = ArgoGuest::Create(a.port(), a.memory(), a.domid());
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? *std::move(g) : nullptr;
  }

  TransportWorld world_;
};

TEST_P(TransportTest, MessageTravelsBetweenAttachedGuestsWithVirq) {
  auto a = MustAttach(kA);
  auto b = MustAttach(kB);
  ASSERT_TRUE(a && b);
  auto ga = GuestOn(*a);
  auto gb = GuestOn(*b);
  auto ring = ga->RegisterRing(10, kB, 4096);
  ASSERT_TRUE(ring.ok()) << ring.status();
  const std::string text = "hello over the transport";
  auto sent = gb->Send(7, xen_argo_addr_t{10, kA, 0},
                       absl::Span<const uint8_t>(
                           reinterpret_cast<const uint8_t*>(text.data()),
                           text.size()),
                       3);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, text.size());
  auto raised = a->WaitVirq(absl::Seconds(10));
  ASSERT_TRUE(raised.ok());
  EXPECT_TRUE(*raised);
  auto msg = (*ring)->Read();
  ASSERT_TRUE(msg.ok() && msg->has_value());
  EXPECT_EQ((*msg)->source.domain_id, kB);
  EXPECT_EQ((*msg)->source.aport, 7u);
  EXPECT_EQ(std::string((*msg)->payload.begin(), (*msg)->payload.end()), text);
  // Nothing more: the VIRQ was consumed.
  auto again = a->WaitVirq(absl::ZeroDuration());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_P(TransportTest, ErrnoMatchesInProcess) {
  auto a = MustAttach(kA);
  ASSERT_TRUE(a);
  // An unknown op, a bad handle, a NULL notify: the hypervisor's answers.
  EXPECT_EQ(a->port()->ArgoOp(99, 0, 0, 0, 0), -XEN_EOPNOTSUPP);
  EXPECT_EQ(a->port()->ArgoOp(XEN_ARGO_OP_register_ring, 1ull << 40, 0, 0, 0),
            world_.hv->ArgoOp(kA, XEN_ARGO_OP_register_ring, 1ull << 40, 0, 0, 0));
  EXPECT_EQ(a->port()->ArgoOp(XEN_ARGO_OP_notify, 0, 0, 0, 0), 0);
}

TEST_P(TransportTest, RefusalsChangeNothing) {
  auto options = world_.harness->OptionsFor(kA, GetParam());
  options.token = "abad";
  auto bad = guest::Attachment::Attach(options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kPermissionDenied);
  options = world_.harness->OptionsFor(77, GetParam());
  auto unknown = guest::Attachment::Attach(options);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  auto first = MustAttach(kA);
  auto second = world_.harness->Attach(kA, GetParam());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(world_.harness->authority().crashes(), 0);
  EXPECT_EQ(world_.harness->server().attached_count(), 1u);
}

// A child level (argo-hv --parent) says so in its hello; the authority
// sees the CPU count. The library refuses a count the wire cannot carry.
TEST_P(TransportTest, AnAttachAsALevelCarriesItsCpusToTheAuthority) {
  auto options = world_.harness->OptionsFor(kA, GetParam());
  options.level_cpus = 3;
  auto level = guest::Attachment::Attach(options);
  ASSERT_TRUE(level.ok()) << level.status();
  auto plain = MustAttach(kB);
  ASSERT_TRUE(plain);
  const std::vector<std::string> log = world_.harness->authority().log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "attach 1 as a level of 3 cpus");
  EXPECT_EQ(log[1], "attach 2");
  level->reset();
  options.level_cpus = ARGO_LEVEL_MAX_CPUS + 1;
  auto too_many = guest::Attachment::Attach(options);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(too_many.status().message(),
            "level_cpus: 65 (0 for a guest, 1..64 for a child level)");
}

TEST_P(TransportTest, DetachIsACrashAndReattachWorks) {
  auto a = MustAttach(kA);
  auto ga = GuestOn(*a);
  ASSERT_TRUE(ga->RegisterRing(10, kB, 4096).ok());
  EXPECT_EQ(world_.hv->ListRings().size(), 1u);
  ga.reset();
  a.reset();  // the socket closes
  for (int i = 0; i < 2000 && world_.harness->authority().crashes() == 0; ++i) {
    usleep(1000);
  }
  EXPECT_EQ(world_.harness->authority().crashes(), 1);
  EXPECT_EQ(world_.hv->ListRings().size(), 0u);
  auto again = MustAttach(kA);
  ASSERT_TRUE(again);
  auto g = GuestOn(*again);
  EXPECT_TRUE(g->RegisterRing(10, kB, 4096).ok());
}

// A guest waiting for VIRQs on one thread while another makes hypercalls
// (a receiver thread beside a sender thread): in blocking mode the answers
// travel on the socket WaitVirq watches for the daemon's hang-up, and an
// answer in flight must not read as "the daemon went away".
TEST_P(TransportTest, WaitVirqIsNotEndedByAnAnswerInFlight) {
  auto a = MustAttach(kA);
  ASSERT_TRUE(a);
  std::atomic<bool> stop{false};
  std::atomic<int> gone{0};
  std::atomic<int> waits{0};
  std::thread waiter([&] {
    while (!stop.load()) {
      absl::StatusOr<bool> raised = a->WaitVirq(absl::Milliseconds(50));
      if (!raised.ok()) ++gone;
      ++waits;
    }
  });
  for (int i = 0; i < 20000 && gone.load() == 0; ++i) {
    ASSERT_EQ(a->port()->ArgoOp(XEN_ARGO_OP_notify, 0, 0, 0, 0), 0) << i;
  }
  stop = true;
  waiter.join();
  EXPECT_EQ(gone.load(), 0) << "after " << waits.load() << " waits";
}

// ...while the daemon's hang-up still ends the wait at once.
TEST_P(TransportTest, WaitVirqSeesTheDaemonHangUp) {
  auto a = MustAttach(kA);
  ASSERT_TRUE(a);
  world_.harness->server().Evict(kA);
  absl::StatusOr<bool> raised = a->WaitVirq(absl::Seconds(60));
  EXPECT_EQ(raised.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(a->port()->ArgoOp(XEN_ARGO_OP_notify, 0, 0, 0, 0), -XEN_EIO);
}

// A peer of another uid is closed before its Hello is read (the socket's
// mode refuses it first; with the mode opened, SO_PEERCRED does).
TEST_P(TransportTest, OtherUidIsClosedBeforeItsHelloIsRead) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to drop to another uid";
  const std::string path = world_.harness->socket_path();
  const std::string dir = path.substr(0, path.rfind('/'));
  ASSERT_EQ(chmod(dir.c_str(), 0711), 0);
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  const guest::AttachOptions options =
      world_.harness->OptionsFor(kA, GetParam());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    auto refused = guest::Attachment::Attach(options);
    const bool closed =
        refused.status().code() == absl::StatusCode::kUnavailable &&
        absl::StrContains(refused.status().message(), "closed the connection");
    if (!closed) {
      std::fprintf(stderr, "child: %s\n", refused.status().ToString().c_str());
    }
    _exit(closed ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(world_.harness->authority().AttachedPid(kA), 0);
  EXPECT_TRUE(world_.harness->authority().log().empty());
}

INSTANTIATE_TEST_SUITE_P(Modes, TransportTest,
                         ::testing::Values(Mode::kBlocking, Mode::kLowLatency),
                         [](const auto& info) {
                           return info.param == Mode::kBlocking
                                      ? std::string("Blocking")
                                      : std::string("LowLatency");
                         });

}  // namespace
}  // namespace argo::testing
