// A guest process for tests/transport/guest_process_test: attaches to its
// domain over the attach socket and plays one role.
//
//   --role=receiver  registers a ring on --port for --peer and reads --count
//                    messages (0: for ever), checking each one's sequence
//                    number, length, pattern and checksum: no loss,
//                    duplication, reordering or corruption. Prints one
//                    report line; exits 0 iff every message was right.
//   --role=sender    sends --count messages (0: for ever) to --peer:--port;
//                    on EAGAIN waits for VIRQ_ARGO (the receiver's notify),
//                    on ECONNREFUSED (no ring yet, or its owner died) waits
//                    and retries. Exits 0 once all were accepted.
//   --role=churn     registers a wildcard ring and then sends to it, reads
//                    and notifies in a loop, until killed.
//   --role=flooder   attaches by hand and, at full speed until killed,
//                    issues random hypercalls, garbage frames on its socket
//                    and garbage in its doorbell slot; a frame the server
//                    cannot take ends the attachment: it attaches again.
//
// Every wait is bounded: a receiver or sender that makes no progress for
// --stall_ms exits 1 instead of hanging the test.
//
// Message format (little-endian): seq u32, length u32, pattern bytes,
// FNV-1a-32 of everything before it u32. message_type is the seq too.
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "argo_core/guest/argo_guest.h"
#include "argo_core/public/argo.h"
#include "guest/attachment.h"
#include "transport/fd_passing.h"
#include "transport/wire.h"

namespace {

using argo::ArgoGuest;
using argo::GuestRing;
using argo::transport::Mode;

struct Flags {
  std::string role;
  std::string socket;
  uint32_t domid = 0;
  std::string token;
  Mode mode = Mode::kBlocking;
  uint32_t port = 10;
  uint32_t peer = 0;
  uint64_t count = 0;
  uint32_t ring_len = 16384;
  uint32_t seed = 1;
  int64_t stall_ms = 60000;
};

[[noreturn]] void Fail(const std::string& why) {
  printf("FAIL %s\n", why.c_str());
  fflush(stdout);
  _exit(1);
}

Flags ParseFlags(int argc, char** argv) {
  std::map<std::string, std::string> kv;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      Fail("bad flag " + arg);
    }
    kv[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
  }
  Flags f;
  auto num = [&](const char* name, auto* out) {
    auto it = kv.find(name);
    if (it == kv.end()) return;
    if (!absl::SimpleAtoi(it->second, out)) Fail(absl::StrCat("bad --", name));
  };
  f.role = kv["role"];
  f.socket = kv["socket"];
  f.token = kv["token"];
  if (kv["mode"] == "lowlatency") {
    f.mode = Mode::kLowLatency;
  } else if (kv["mode"] != "blocking" && !kv["mode"].empty()) {
    Fail("bad --mode");
  }
  num("domid", &f.domid);
  num("port", &f.port);
  num("peer", &f.peer);
  num("count", &f.count);
  num("ring_len", &f.ring_len);
  num("seed", &f.seed);
  num("stall_ms", &f.stall_ms);
  return f;
}

uint32_t Fnv1a(const uint8_t* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

// The message with sequence number `seq`: 12..415 bytes.
std::vector<uint8_t> Message(uint32_t seed, uint32_t seq) {
  const uint32_t len = 12 + (seq * 7919u + seed * 31u) % 404;
  std::vector<uint8_t> m(len);
  std::memcpy(m.data(), &seq, 4);
  std::memcpy(m.data() + 4, &len, 4);
  uint32_t x = seq * 2654435761u + seed;
  for (uint32_t i = 8; i < len - 4; ++i) {
    x = x * 1103515245u + 12345u;
    m[i] = static_cast<uint8_t>(x >> 16);
  }
  const uint32_t sum = Fnv1a(m.data(), len - 4);
  std::memcpy(m.data() + len - 4, &sum, 4);
  return m;
}

std::unique_ptr<argo::guest::Attachment> AttachOrDie(const Flags& f) {
  argo::guest::AttachOptions options;
  options.socket_path = f.socket;
  options.domain = absl::StrCat(f.domid);
  options.token = f.token;
  options.mode = f.mode;
  auto attachment = argo::guest::Attachment::Attach(options);
  if (!attachment.ok()) Fail(absl::StrCat("attach: ", attachment.status().ToString()));
  return *std::move(attachment);
}

std::unique_ptr<ArgoGuest> GuestOrDie(argo::guest::Attachment& a) {
  auto guest = ArgoGuest::Create(a.port(), a.memory(), a.domid());
  if (!guest.ok()) Fail(absl::StrCat("guest: ", guest.status().ToString()));
  return *std::move(guest);
}

// Waits up to `ms` for VIRQ_ARGO; dies if the daemon went away.
void WaitVirq(argo::guest::Attachment& a, int64_t ms) {
  absl::StatusOr<bool> raised = a.WaitVirq(absl::Milliseconds(ms));
  if (!raised.ok()) Fail(absl::StrCat("virq: ", raised.status().ToString()));
}

int Receiver(const Flags& f) {
  auto attachment = AttachOrDie(f);
  auto guest = GuestOrDie(*attachment);
  absl::StatusOr<GuestRing*> ring =
      guest->RegisterRing(f.port, static_cast<domid_t>(f.peer), f.ring_len);
  if (!ring.ok()) Fail(absl::StrCat("register: ", ring.status().ToString()));
  uint64_t expected = 0;
  int64_t idle_ms = 0;
  while (f.count == 0 || expected < f.count) {
    bool got = false;
    for (;;) {
      auto msg = (*ring)->Read();
      if (!msg.ok()) Fail(absl::StrCat("read: ", msg.status().ToString()));
      if (!msg->has_value()) break;
      got = true;
      const argo::ReceivedMessage& m = **msg;
      const std::vector<uint8_t>& p = m.payload;
      uint32_t seq = 0, len = 0, sum = 0;
      if (p.size() < 12) Fail(absl::StrCat("short message at ", expected));
      std::memcpy(&seq, p.data(), 4);
      std::memcpy(&len, p.data() + 4, 4);
      std::memcpy(&sum, p.data() + p.size() - 4, 4);
      if (len != p.size() || sum != Fnv1a(p.data(), p.size() - 4)) {
        Fail(absl::StrCat("corrupt message after ", expected));
      }
      if (seq != static_cast<uint32_t>(expected)) {
        Fail(absl::StrCat(seq < expected ? "duplicate or reordered" : "lost",
                          ": expected ", expected, ", got ", seq));
      }
      if (m.message_type != seq || m.source.domain_id != f.peer ||
          p != Message(f.seed, seq)) {
        Fail(absl::StrCat("wrong type, source or bytes at ", seq));
      }
      ++expected;
    }
    if (got) {
      idle_ms = 0;
      if (!guest->NotifyNull().ok()) Fail("notify");
      continue;
    }
    if (idle_ms >= f.stall_ms) Fail(absl::StrCat("stalled after ", expected));
    WaitVirq(*attachment, 100);
    idle_ms += 100;  // an upper bound: a VIRQ may have ended the wait early
  }
  printf("receiver ok %llu\n", static_cast<unsigned long long>(expected));
  return 0;
}

int Sender(const Flags& f) {
  auto attachment = AttachOrDie(f);
  auto guest = GuestOrDie(*attachment);
  const xen_argo_addr_t dst{f.port, static_cast<domid_t>(f.peer), 0};
  for (uint64_t seq = 0; f.count == 0 || seq < f.count; ++seq) {
    const std::vector<uint8_t> m = Message(f.seed, static_cast<uint32_t>(seq));
    int64_t waited_ms = 0;
    for (;;) {
      absl::StatusOr<uint32_t> sent =
          guest->Send(7, dst, m, static_cast<uint32_t>(seq));
      if (sent.ok()) {
        if (*sent != m.size()) Fail("short send");
        break;
      }
      if (waited_ms >= f.stall_ms) {
        Fail(absl::StrCat("stalled at ", seq, ": ", sent.status().ToString()));
      }
      if (absl::IsUnavailable(sent.status())) {  // EAGAIN: a waiter is queued
        WaitVirq(*attachment, 100);
        waited_ms += 100;
      } else if (absl::IsNotFound(sent.status())) {  // no ring (yet)
        usleep(1000);
        waited_ms += 1;
      } else {
        Fail(absl::StrCat("send ", seq, ": ", sent.status().ToString()));
      }
    }
  }
  printf("sender ok %llu\n", static_cast<unsigned long long>(f.count));
  return 0;
}

int Churn(const Flags& f) {
  auto attachment = AttachOrDie(f);
  auto guest = GuestOrDie(*attachment);
  absl::StatusOr<GuestRing*> ring =
      guest->RegisterRing(f.port, XEN_ARGO_DOMID_ANY, 4096);
  if (!ring.ok()) Fail(absl::StrCat("register: ", ring.status().ToString()));
  const xen_argo_addr_t self{f.port, static_cast<domid_t>(f.domid), 0};
  for (uint32_t i = 0;; ++i) {
    const std::vector<uint8_t> m = Message(f.seed, i);
    (void)guest->Send(1, self, m, i);
    while (true) {
      auto msg = (*ring)->Read();
      if (!msg.ok() || !msg->has_value()) break;
    }
    (void)guest->NotifyNull();
  }
}

// ---- The flooder: the transport by hand ------------------------------------

struct RawAttachment {
  int sock = -1;
  std::vector<int> fds;
  argo::transport::DoorbellPage* doorbell = nullptr;
  uint8_t* memory = nullptr;
  uint64_t memory_bytes = 0;

  ~RawAttachment() {
    if (doorbell != nullptr) munmap(doorbell, argo::transport::kDoorbellBytes);
    if (memory != nullptr) munmap(memory, memory_bytes);
    for (int fd : fds) close(fd);
    if (sock >= 0) close(sock);
  }
};

// Attaches by hand; nullptr if refused (e.g. the server is still tearing
// down the previous attachment: AlreadyExists) or the socket failed.
std::unique_ptr<RawAttachment> RawAttach(const Flags& f, Mode mode) {
  auto a = std::make_unique<RawAttachment>();
  a->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, f.socket.data(),
              std::min(f.socket.size(), sizeof(addr.sun_path) - 1));
  if (a->sock < 0 ||
      connect(a->sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return nullptr;
  }
  argo::transport::Hello hello{};
  hello.magic = argo::transport::kHelloMagic;
  hello.version = argo::transport::kProtocolVersion;
  hello.mode = static_cast<uint8_t>(mode);
  hello.vcpus = 1;
  hello.domid = f.domid;
  std::memcpy(hello.token, f.token.data(),
              std::min(f.token.size(), sizeof(hello.token) - 1));
  if (send(a->sock, &hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello)) {
    return nullptr;
  }
  argo::transport::Welcome welcome{};
  auto got = argo::transport::RecvWithFds(
      a->sock,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&welcome), sizeof(welcome)),
      argo::transport::kMaxWelcomeFds);
  if (!got.ok()) return nullptr;
  a->fds = got->fds;
  if (got->size != sizeof(welcome) || welcome.error != argo::transport::kAttachOk) {
    return nullptr;
  }
  a->memory_bytes = welcome.memory_frames * 4096;
  void* mem = mmap(nullptr, a->memory_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                   a->fds[argo::transport::kFdMemory], 0);
  if (mem == MAP_FAILED) return nullptr;
  a->memory = static_cast<uint8_t*>(mem);
  if (mode == Mode::kLowLatency) {
    void* page = mmap(nullptr, argo::transport::kDoorbellBytes,
                      PROT_READ | PROT_WRITE, MAP_SHARED,
                      a->fds[argo::transport::kFdDoorbell], 0);
    if (page == MAP_FAILED) return nullptr;
    a->doorbell = static_cast<argo::transport::DoorbellPage*>(page);
  }
  return a;
}

// One hypercall frame (valid or not) and its answer. False: the
// attachment is over (the server hung up, or never answered).
bool RawCall(RawAttachment& a, const argo::transport::HypercallFrame& frame,
             uint32_t seq) {
  if (a.doorbell == nullptr) {
    if (send(a.sock, &frame, sizeof(frame), MSG_NOSIGNAL) != sizeof(frame)) {
      return false;
    }
    argo::transport::HypercallFrame answer;
    return recv(a.sock, &answer, sizeof(answer), 0) == sizeof(answer);
  }
  argo::transport::DoorbellSlot& slot = a.doorbell->slot[0];
  std::memcpy(&slot.request, &frame, sizeof(frame));
  __atomic_store_n(&slot.request.seq, seq, __ATOMIC_RELEASE);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (__atomic_load_n(&a.doorbell->header.server_sleeping, __ATOMIC_RELAXED)) {
    const char one = 1;
    (void)send(a.fds[argo::transport::kFdKick], &one, 1,
               MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  for (uint32_t i = 0; i < 1'000'000; ++i) {
    if (__atomic_load_n(&slot.answer.seq, __ATOMIC_ACQUIRE) == seq) return true;
    if ((i & 63) == 63) {
      // Hung up? (The socket carries nothing else in low-latency mode.)
      pollfd p{a.sock, POLLIN, 0};
      if (poll(&p, 1, 0) != 0) return false;
      // Kick again in case the server fell asleep before seeing us.
      if (__atomic_load_n(&a.doorbell->header.server_sleeping,
                          __ATOMIC_RELAXED)) {
        const char one = 1;
        (void)send(a.fds[argo::transport::kFdKick], &one, 1,
                   MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      sched_yield();
    }
  }
  return false;
}

int Flooder(const Flags& f) {
  std::mt19937_64 rng(f.seed);
  uint64_t attaches = 0;
  for (;;) {
    const Mode mode = rng() % 2 ? Mode::kBlocking : Mode::kLowLatency;
    std::unique_ptr<RawAttachment> a = RawAttach(f, mode);
    if (a == nullptr) {
      usleep(1000);
      continue;
    }
    ++attaches;
    uint32_t seq = 0;
    for (bool attached = true; attached;) {
      // Scribble over the first frames of guest memory: struct and iov
      // arguments then hold anything.
      for (int i = 0; i < 8; ++i) {
        a->memory[rng() % (16 * 4096)] = static_cast<uint8_t>(rng());
      }
      argo::transport::HypercallFrame frame = argo::transport::RequestFrame(
          ++seq, 0, 1 + rng() % 5, rng() % (16 * 4096), rng() % (16 * 4096),
          rng() % 9, rng() % 4);
      switch (rng() % 32) {
        case 0:  // wrong magic: answered -EINVAL
          frame.magic = static_cast<uint32_t>(rng());
          break;
        case 1:  // a reserved field set, another vcpu: -EINVAL
          frame.reserved = rng() | 1;
          frame.vcpu = static_cast<uint32_t>(rng());
          break;
        case 2:  // anything at all in the arguments
          for (uint64_t& arg : frame.arg) arg = rng();
          frame.cmd = static_cast<uint32_t>(rng());
          break;
        case 3: {  // a datagram of the wrong size: the attachment ends
          uint8_t junk[200];
          for (uint8_t& b : junk) b = static_cast<uint8_t>(rng());
          (void)send(a->sock, junk, 1 + rng() % sizeof(junk), MSG_NOSIGNAL);
          attached = false;
          continue;
        }
        case 4:  // a frame on a low-latency socket ends it too
          if (mode == Mode::kLowLatency) {
            (void)send(a->sock, &frame, sizeof(frame), MSG_NOSIGNAL);
            attached = false;
            continue;
          }
          break;
        case 5:  // rarely: just go
          if (rng() % 8 == 0) {
            attached = false;
            continue;
          }
          break;
        default:
          break;
      }
      attached = RawCall(*a, frame, seq);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const Flags f = ParseFlags(argc, argv);
  if (f.role == "receiver") return Receiver(f);
  if (f.role == "sender") return Sender(f);
  if (f.role == "churn") return Churn(f);
  if (f.role == "flooder") return Flooder(f);
  Fail("no such --role");
}
