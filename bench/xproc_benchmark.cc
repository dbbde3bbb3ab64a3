// What it measures: hypercalls and messages between real processes over the
// guest transport (DESIGN §8, §9), against baselines of the same run.
//
// The world, built on first use: a server process (hypervisor + io_uring
// guest server on a private attach socket), this process attached as
// several guests, and guest processes of its own (a pong responder, a
// stream receiver, eight idle guests). Every child is SIGKILLed when this
// process exits.
//
//   BM_XprocSendvRtt/mode:{1,2}   one 64-byte sendv from this process to a
//                                 ring, answered (blocking / low-latency)
//   BM_EventfdRtt                 two processes bouncing two eventfds: one
//                                 round of kernel wake-ups, the floor of
//                                 the blocking mode
//   BM_XprocPingPong              a 64-byte message to the pong process
//                                 and its reply back (low-latency)
//   BM_XprocStream                64-byte messages one way to the receiver
//                                 process, items_per_second
//   BM_InprocStream               the same stream between two guests of
//                                 one process: its baseline
//   BM_IdleDaemonCpu              the server's CPU over 5 s with the idle
//                                 guests attached (counter idle_cpu_percent)
//   BM_XprocNestUp                BM_XprocSendvRtt/mode:2 from a guest at
//                                 L2 of a second server process (L0 <- L1
//                                 <- L2 as a nesting::Stack, guest servers
//                                 on L2 and on L0): one 64-byte implicit
//                                 send cabled up L2 -> L1 -> L0 to a ring
//                                 of an L0 guest in this process
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "argo_core/guest/argo_guest.h"
#include "argo_core/guest/in_process_port.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/virq_recorder.h"
#include "argo_core/xen_status.h"
#include "benchmark/benchmark.h"
#include "guest/attachment.h"
#include "nesting/stack.h"
#include "tests/testing/transport_harness.h"
#include "transport/virq_sockets.h"

namespace argo::bench {
namespace {

using transport::Mode;

constexpr domid_t kSpinSender = 1;
constexpr domid_t kRingOwner = 2;
constexpr domid_t kBlockSender = 3;
constexpr domid_t kPing = 4;
constexpr domid_t kPong = 5;
constexpr domid_t kStreamSender = 6;
constexpr domid_t kStreamReceiver = 7;
constexpr domid_t kFirstIdle = 8;
constexpr int kIdleGuests = 8;
constexpr domid_t kDomains = kFirstIdle + kIdleGuests;
constexpr uint32_t kRingLen = 256 * 1024;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "xproc_benchmark: %s\n", what.c_str());
  std::_Exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) Die(absl::StrCat(what, ": ", value.status().ToString()));
  return *std::move(value);
}

// The server process: runs until its parent goes (its control pipe reads
// EOF), then exits without ceremony.
[[noreturn]] void ServerMain(int ready_fd, int control_fd) {
  testing::TransportWorld world;
  if (absl::Status s = world.Start(kDomains, 1024); !s.ok()) {
    Die(s.ToString());
  }
  const std::string path = world.harness->socket_path();
  if (write(ready_fd, path.data(), path.size()) < 0) Die("ready");
  close(ready_fd);
  char c;
  while (read(control_fd, &c, 1) > 0) {
  }
  std::_Exit(0);
}

// One attached guest of this or a child process.
struct Guest {
  std::unique_ptr<guest::Attachment> attachment;
  std::unique_ptr<ArgoGuest> argo;
};

Guest AttachAs(const std::string& socket, domid_t d, Mode mode) {
  guest::AttachOptions options;
  options.socket_path = socket;
  options.domain = absl::StrCat(d);
  options.token = testing::TestAuthority::TokenFor(d);
  options.mode = mode;
  Guest g;
  g.attachment = Must(guest::Attachment::Attach(options), "attach");
  g.argo = Must(ArgoGuest::Create(g.attachment->port(), g.attachment->memory(),
                                  d),
                "guest");
  return g;
}

// Waits for the next message on `ring`: spins briefly, then sleeps on the
// VIRQ (the partner's send raises it).
absl::optional<ReceivedMessage> NextMessage(Guest& g, GuestRing* ring) {
  for (int i = 0; i < 4000; ++i) {
    if (ring->BytesAvailable() != 0) break;
    __builtin_ia32_pause();
  }
  while (ring->BytesAvailable() == 0) {
    auto raised = g.attachment->WaitVirq(absl::Milliseconds(100));
    if (!raised.ok()) std::_Exit(0);  // the server went
    if (getppid() == 1) std::_Exit(0);
  }
  auto msg = ring->Read();
  if (!msg.ok() || !msg->has_value()) Die("read");
  return **msg;
}

// Sends, waiting for space on EAGAIN the Xen way: a notify asking for it,
// then the VIRQ that says it is there.
void SendWaitingForSpace(Guest& g, xen_argo_port_t src, xen_argo_addr_t dst,
                         absl::Span<const uint8_t> data) {
  for (;;) {
    absl::StatusOr<uint32_t> sent = g.argo->Send(src, dst, data, 0);
    if (sent.ok()) return;
    if (XenErrnoOf(sent.status()) != XEN_EAGAIN) {
      Die(sent.status().ToString());
    }
    RingQuery query{dst, static_cast<uint32_t>(data.size())};
    auto ents = g.argo->Notify(absl::MakeConstSpan(&query, 1));
    if (!ents.ok()) Die(ents.status().ToString());
    if (((*ents)[0].flags & XEN_ARGO_RING_SUFFICIENT) != 0) continue;
    (void)g.attachment->WaitVirq(absl::Milliseconds(10));
  }
}

[[noreturn]] void PongMain(const std::string& socket, int ready_fd) {
  Guest g = AttachAs(socket, kPong, Mode::kLowLatency);
  GuestRing* ring = Must(g.argo->RegisterRing(1, kPing, kRingLen), "ring");
  close(ready_fd);
  for (;;) {
    ReceivedMessage msg = *NextMessage(g, ring);
    SendWaitingForSpace(g, 1, xen_argo_addr_t{1, kPing, 0}, msg.payload);
  }
}

// Drains in batches and sleeps on the VIRQ in between (no spinning: on two
// cores the sender and the server have them), notifying after each batch
// so a sender waiting for space wakes (§3.5).
[[noreturn]] void StreamReceiverMain(const std::string& socket, int ready_fd) {
  Guest g = AttachAs(socket, kStreamReceiver, Mode::kLowLatency);
  GuestRing* ring =
      Must(g.argo->RegisterRing(1, kStreamSender, kRingLen), "ring");
  close(ready_fd);
  for (;;) {
    bool drained = false;
    while (ring->BytesAvailable() != 0) {
      (void)ring->Read();
      drained = true;
    }
    if (drained && !g.argo->NotifyNull().ok()) std::_Exit(0);
    if (!g.attachment->WaitVirq(absl::Milliseconds(100)).ok()) std::_Exit(0);
    if (getppid() == 1) std::_Exit(0);
  }
}

[[noreturn]] void IdleGuestsMain(const std::string& socket, int ready_fd) {
  std::vector<Guest> guests;
  for (int i = 0; i < kIdleGuests; ++i) {
    guests.push_back(AttachAs(socket, kFirstIdle + i,
                              i % 2 ? Mode::kLowLatency : Mode::kBlocking));
    (void)guests.back().argo->RegisterRing(1, XEN_ARGO_DOMID_ANY, 4096);
  }
  close(ready_fd);
  pause();
  std::_Exit(0);
}

[[noreturn]] void EventfdPartnerMain(int in, int out) {
  uint64_t v;
  for (;;) {
    if (read(in, &v, sizeof(v)) != sizeof(v)) std::_Exit(0);
    if (write(out, &v, sizeof(v)) != sizeof(v)) std::_Exit(0);
  }
}

// Forks a server process running `server_main(ready_fd, control_fd)`;
// returns what it writes on `ready_fd` once it serves (its socket paths).
// *control_fd is held until exit: the server's lifeline (it exits when it
// reads EOF there).
std::string ForkServer(void (*server_main)(int, int), const char* what,
                       pid_t* pid, int* control_fd) {
  int ready[2], control[2];
  if (pipe(ready) != 0 || pipe(control) != 0) Die("pipe");
  *pid = fork();
  if (*pid == 0) {
    close(ready[0]);
    close(control[1]);
    server_main(ready[1], control[0]);
  }
  close(ready[1]);
  close(control[0]);
  *control_fd = control[1];
  char text[512] = {};
  if (read(ready[0], text, sizeof(text) - 1) <= 0) Die(what);
  close(ready[0]);
  return text;
}

class World {
 public:
  static World& Get() {
    static World* world = new World();
    return *world;
  }

  pid_t server_pid() const { return server_pid_; }
  Guest& spin_sender() { return spin_sender_; }
  Guest& block_sender() { return block_sender_; }
  Guest& ping() { return ping_; }
  Guest& stream_sender() { return stream_sender_; }
  GuestRing* spin_ring() { return spin_ring_; }
  GuestRing* block_ring() { return block_ring_; }
  GuestRing* ping_ring() { return ping_ring_; }
  int eventfd_out() const { return eventfd_out_; }
  int eventfd_in() const { return eventfd_in_; }

 private:
  World() {
    socket_ = ForkServer(ServerMain, "server start", &server_pid_, &control_fd_);
    children_.push_back(server_pid_);
    Spawn(PongMain);
    Spawn(StreamReceiverMain);
    Spawn(IdleGuestsMain);
    const int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
    const pid_t partner = fork();
    if (partner == 0) EventfdPartnerMain(a, b);
    children_.push_back(partner);
    eventfd_out_ = a;
    eventfd_in_ = b;

    spin_sender_ = AttachAs(socket_, kSpinSender, Mode::kLowLatency);
    block_sender_ = AttachAs(socket_, kBlockSender, Mode::kBlocking);
    owner_ = AttachAs(socket_, kRingOwner, Mode::kBlocking);
    spin_ring_ = Must(owner_.argo->RegisterRing(1, kSpinSender, kRingLen), "r");
    block_ring_ = Must(owner_.argo->RegisterRing(2, kBlockSender, kRingLen), "r");
    ping_ = AttachAs(socket_, kPing, Mode::kLowLatency);
    ping_ring_ = Must(ping_.argo->RegisterRing(1, kPong, kRingLen), "r");
    stream_sender_ = AttachAs(socket_, kStreamSender, Mode::kLowLatency);
    std::atexit([] { World::Get().KillChildren(); });
  }

  void Spawn(void (*main)(const std::string&, int)) {
    int ready[2];
    if (pipe(ready) != 0) Die("pipe");
    const pid_t pid = fork();
    if (pid == 0) {
      close(ready[0]);
      close(control_fd_);
      main(socket_, ready[1]);
    }
    close(ready[1]);
    char c;
    (void)read(ready[0], &c, 1);  // EOF once the child is set up
    close(ready[0]);
    children_.push_back(pid);
  }

  void KillChildren() {
    for (pid_t pid : children_) kill(pid, SIGKILL);
    for (pid_t pid : children_) waitpid(pid, nullptr, 0);
  }

  std::string socket_;
  pid_t server_pid_ = 0;
  int control_fd_ = -1;
  std::vector<pid_t> children_;
  int eventfd_out_ = -1, eventfd_in_ = -1;
  Guest spin_sender_, block_sender_, owner_, ping_, stream_sender_;
  GuestRing* spin_ring_ = nullptr;
  GuestRing* block_ring_ = nullptr;
  GuestRing* ping_ring_ = nullptr;
};

// Forked before main, while this process has one thread (the gRPC and
// threaded benchmarks start threads later).
const bool kWorldStarted = (World::Get(), true);

void BM_XprocSendvRtt(benchmark::State& state) {
  World& w = World::Get();
  const bool spin = state.range(0) == static_cast<int>(Mode::kLowLatency);
  Guest& g = spin ? w.spin_sender() : w.block_sender();
  GuestRing* ring = spin ? w.spin_ring() : w.block_ring();
  const xen_argo_addr_t dst{static_cast<xen_argo_port_t>(spin ? 1 : 2),
                            kRingOwner, 0};
  const std::vector<uint8_t> payload(64, 0x5a);
  // The ring holds 3,276 such messages: drained untimed every 1,024, so
  // the reader's cache traffic is not part of the hypercall's time.
  int since_drain = 0;
  for (auto _ : state) {
    absl::StatusOr<uint32_t> sent = g.argo->Send(7, dst, payload, 0);
    if (!sent.ok()) {
      state.SkipWithError(std::string(sent.status().message()).c_str());
      break;
    }
    if (++since_drain == 1024) {
      state.PauseTiming();
      while (ring->BytesAvailable() != 0) (void)ring->Read();
      since_drain = 0;
      state.ResumeTiming();
    }
  }
  while (ring->BytesAvailable() != 0) (void)ring->Read();
}
BENCHMARK(BM_XprocSendvRtt)
    ->ArgName("mode")
    ->Arg(static_cast<int>(Mode::kBlocking))
    ->Arg(static_cast<int>(Mode::kLowLatency))
    ->UseRealTime();

// The nested server process: L0 <- L1 <- L2 in one nesting::Stack (the
// links in-process, drainers inline: this figure sends up only), a guest
// server on L2 for the sender and one on L0 for the ring's owner. Writes
// "l2-socket\nl0-socket" to ready_fd; runs until its control pipe reads
// EOF. (The attached level, argo-hv --parent, will put L1 and L2 in
// processes of their own.)
constexpr domid_t kNestL1 = 10, kNestL2 = 20, kNestSender = 1, kNestOwner = 1;

[[noreturn]] void NestServerMain(int ready_fd, int control_fd) {
  auto stack = Must(nesting::Stack::Create(), "stack");
  nesting::ChildLevelOptions options;
  options.threads = false;
  nesting::Stack::Node* l1 =
      Must(stack->AddLevel(stack->root(), "l1", kNestL1, options), "l1");
  nesting::Stack::Node* l2 =
      Must(stack->AddLevel(*l1, "l2", kNestL2, options), "l2");
  nesting::Stack::Node& l0 = stack->root();
  if (!stack->AddDomain(l0, kNestOwner, 1024).ok() ||
      !stack->AddDomain(*l2, kNestSender, 1024).ok() ||
      !l2->level->table()
           .Connect({kNestSender, 7}, {ARGO_DOMID_PARENT, 7}, true)
           .ok() ||
      !l1->level->table()
           .Connect({kNestL2, 7}, {ARGO_DOMID_PARENT, 8}, true)
           .ok() ||
      !l0.level->table().Connect({kNestL1, 8}, {kNestOwner, 1}, true).ok()) {
    Die("nested world");
  }
  auto at_l2 = Must(
      testing::TransportHarness::Start(&l2->level->hypervisor()), "server");
  auto at_l0 =
      Must(testing::TransportHarness::Start(&l0.level->hypervisor()), "server");
  const std::string paths =
      absl::StrCat(at_l2->socket_path(), "\n", at_l0->socket_path());
  if (write(ready_fd, paths.data(), paths.size()) < 0) Die("ready");
  close(ready_fd);
  char c;
  while (read(control_fd, &c, 1) > 0) {
  }
  std::_Exit(0);
}

class NestWorld {
 public:
  static NestWorld& Get() {
    static NestWorld* world = new NestWorld();
    return *world;
  }
  Guest& sender() { return sender_; }
  GuestRing* ring() { return ring_; }

 private:
  NestWorld() {
    const std::string both =
        ForkServer(NestServerMain, "nest server", &server_pid_, &control_fd_);
    const size_t nl = both.find('\n');
    if (nl == std::string::npos) Die("nest server paths");
    sender_ = AttachAs(both.substr(0, nl), kNestSender, Mode::kLowLatency);
    owner_ = AttachAs(both.substr(nl + 1), kNestOwner, Mode::kLowLatency);
    ring_ = Must(owner_.argo->RegisterRing(1, XEN_ARGO_DOMID_ANY, kRingLen),
                 "ring");
    std::atexit([] {
      const pid_t pid = NestWorld::Get().server_pid_;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    });
  }

  pid_t server_pid_ = 0;
  int control_fd_ = -1;
  Guest sender_, owner_;
  GuestRing* ring_ = nullptr;
};

// Forked before main too, for the same reason.
const bool kNestWorldStarted = (NestWorld::Get(), true);

void BM_XprocNestUp(benchmark::State& state) {
  NestWorld& w = NestWorld::Get();
  const std::vector<uint8_t> payload(64, 0x5a);
  const xen_argo_addr_t implicit{0, ARGO_DOMID_IMPLICIT, 0};
  // As BM_XprocSendvRtt: the ring drained untimed every 1,024 messages
  // (each 64 bytes plus a two-hop path block).
  int since_drain = 0;
  for (auto _ : state) {
    absl::StatusOr<uint32_t> sent = w.sender().argo->Send(7, implicit,
                                                           payload, 0);
    if (!sent.ok()) {
      state.SkipWithError(std::string(sent.status().message()).c_str());
      break;
    }
    if (++since_drain == 1024) {
      state.PauseTiming();
      while (w.ring()->BytesAvailable() != 0) (void)w.ring()->Read();
      since_drain = 0;
      state.ResumeTiming();
    }
  }
  while (w.ring()->BytesAvailable() != 0) (void)w.ring()->Read();
}
BENCHMARK(BM_XprocNestUp)->UseRealTime();

// The transport alone: a NULL notify (no ring, no VIRQ) in low-latency mode.
void BM_XprocNotifyNullRtt(benchmark::State& state) {
  World& w = World::Get();
  for (auto _ : state) {
    if (w.spin_sender().argo->NotifyNull() != absl::OkStatus()) {
      state.SkipWithError("notify failed");
      break;
    }
  }
}
BENCHMARK(BM_XprocNotifyNullRtt)->UseRealTime();

void BM_EventfdRtt(benchmark::State& state) {
  World& w = World::Get();
  uint64_t v = 1;
  for (auto _ : state) {
    if (write(w.eventfd_out(), &v, sizeof(v)) != sizeof(v) ||
        read(w.eventfd_in(), &v, sizeof(v)) != sizeof(v)) {
      state.SkipWithError("eventfd partner gone");
      break;
    }
  }
}
BENCHMARK(BM_EventfdRtt)->UseRealTime();

void BM_XprocPingPong(benchmark::State& state) {
  World& w = World::Get();
  const std::vector<uint8_t> payload(64, 0x33);
  for (auto _ : state) {
    SendWaitingForSpace(w.ping(), 1, xen_argo_addr_t{1, kPong, 0}, payload);
    (void)NextMessage(w.ping(), w.ping_ring());
  }
}
BENCHMARK(BM_XprocPingPong)->UseRealTime();

void BM_XprocStream(benchmark::State& state) {
  World& w = World::Get();
  const std::vector<uint8_t> payload(64, 0x77);
  for (auto _ : state) {
    SendWaitingForSpace(w.stream_sender(), 1,
                        xen_argo_addr_t{1, kStreamReceiver, 0}, payload);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_XprocStream)->UseRealTime();

// The same stream between two guests of one process (in-process hypercall
// ports, a receiver thread draining and notifying): the baseline for
// BM_XprocStream, which differs only in the transport.
void BM_InprocStream(benchmark::State& state) {
  VirqRecorder virqs;
  Hypervisor hv(HypervisorOptions{}, &virqs, nullptr);
  for (domid_t d : {kStreamSender, kStreamReceiver}) {
    if (!hv.CreateDomain(d, DomainConfig{1024, true}).ok()) Die("domain");
  }
  InProcessPort send_port(&hv, kStreamSender), recv_port(&hv, kStreamReceiver);
  auto sender = Must(ArgoGuest::Create(&send_port, hv.DomainMemory(kStreamSender),
                                       kStreamSender),
                     "sender");
  auto receiver = Must(ArgoGuest::Create(&recv_port,
                                         hv.DomainMemory(kStreamReceiver),
                                         kStreamReceiver),
                       "receiver");
  GuestRing* ring =
      Must(receiver->RegisterRing(1, kStreamSender, kRingLen), "ring");
  std::atomic<bool> stop{false};
  std::thread drain([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      bool drained = false;
      while (ring->BytesAvailable() != 0) {
        (void)ring->Read();
        drained = true;
      }
      if (drained) (void)receiver->NotifyNull();
      std::this_thread::yield();
    }
  });
  const std::vector<uint8_t> payload(64, 0x77);
  const xen_argo_addr_t dst{1, kStreamReceiver, 0};
  for (auto _ : state) {
    while (!sender->Send(1, dst, payload, 0).ok()) std::this_thread::yield();
  }
  stop = true;
  drain.join();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InprocStream)->UseRealTime();

// utime + stime of `pid`, in clock ticks.
uint64_t CpuTicks(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  // Fields after the command (which may hold spaces) start after ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

void BM_IdleDaemonCpu(benchmark::State& state) {
  World& w = World::Get();
  sleep(1);  // let every poll of the earlier benchmarks run out
  double percent = 0;
  for (auto _ : state) {
    const uint64_t before = CpuTicks(w.server_pid());
    sleep(5);
    const uint64_t ticks = CpuTicks(w.server_pid()) - before;
    percent = 100.0 * ticks / (5.0 * sysconf(_SC_CLK_TCK));
  }
  state.counters["idle_cpu_percent"] = percent;
}
BENCHMARK(BM_IdleDaemonCpu)->Iterations(1)->Repetitions(1)->UseRealTime();

}  // namespace
}  // namespace argo::bench
