#include "guest/attachment.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "argo_core/public/argo_nesting.h"
#include "argo_core/public/xen_errno.h"
#include "transport/fd_passing.h"

namespace argo::guest {
namespace {

using transport::DoorbellPage;
using transport::DoorbellSlot;
using transport::HypercallFrame;
using transport::Mode;

// What a hypercall returns when the daemon is gone: the call never ran.
constexpr int64_t kDaemonGone = -XEN_EIO;

absl::Status Unavailable(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", strerror(errno)));
}

// Blocks until `fd` is readable or the daemon's socket hangs up. Returns
// false if the socket went (or poll failed for good).
//
// The socket is watched for its hang-up only (POLLRDHUP; POLLHUP and
// POLLERR come unasked), never for POLLIN: in blocking mode it carries the
// answers, and one may be in flight to another thread's hypercall while
// this one waits for a VIRQ; that is no sign of the daemon going.
bool WaitReadable(int fd, int sock, int timeout_ms, bool* readable) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {sock, POLLRDHUP, 0}};
  for (;;) {
    const int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (fds[1].revents != 0) return false;
    *readable = (fds[0].revents & POLLIN) != 0;
    return true;
  }
}

// Consumes every pending wake-up on a wake socket.
void Drain(int fd) {
  char buf[64];
  while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
  }
}

// Blocking mode: one frame out, one frame back, over the socket.
class BlockingPort final : public HypercallPort {
 public:
  explicit BlockingPort(int sock) : sock_(sock) {}

  int64_t ArgoOp(unsigned int cmd, uint64_t a1, uint64_t a2, uint64_t a3,
                 uint64_t a4) override {
    const uint32_t seq = ++seq_;
    const HypercallFrame frame =
        transport::RequestFrame(seq, 0, cmd, a1, a2, a3, a4);
    ssize_t n;
    do {
      n = send(sock_, &frame, sizeof(frame), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof(frame))) return kDaemonGone;
    HypercallFrame answer;
    do {
      n = recv(sock_, &answer, sizeof(answer), 0);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof(answer)) ||
        answer.magic != transport::kFrameMagic || answer.seq != seq) {
      return kDaemonGone;
    }
    return answer.result;
  }

 private:
  const int sock_;
  uint32_t seq_ = 0;
};

// Low-latency mode: the request in this vCPU's doorbell slot; spin for the
// answer, then sleep on the answer wake socket (wire.h has the handshake).
class DoorbellPort final : public HypercallPort {
 public:
  DoorbellPort(DoorbellPage* page, uint32_t vcpu, int kick_fd, int answer_fd,
               int sock, absl::Duration max_spin)
      : page_(page),
        slot_(&page->slot[vcpu]),
        vcpu_(vcpu),
        kick_fd_(kick_fd),
        answer_fd_(answer_fd),
        sock_(sock),
        max_spin_ns_(absl::ToInt64Nanoseconds(max_spin)),
        spin_ns_(std::min<int64_t>(max_spin_ns_, 20'000)) {}

  int64_t ArgoOp(unsigned int cmd, uint64_t a1, uint64_t a2, uint64_t a3,
                 uint64_t a4) override {
    if (gone_) return kDaemonGone;
    const uint32_t seq = ++seq_;
    // Everything but seq first (the fields after it are contiguous); seq
    // last, with release: the publish.
    const HypercallFrame frame =
        transport::RequestFrame(seq, vcpu_, cmd, a1, a2, a3, a4);
    HypercallFrame& request = slot_->request;
    request.magic = frame.magic;
    constexpr size_t kAfterSeq = offsetof(HypercallFrame, cmd);
    std::memcpy(reinterpret_cast<char*>(&request) + kAfterSeq,
                reinterpret_cast<const char*>(&frame) + kAfterSeq,
                sizeof(frame) - kAfterSeq);
    __atomic_store_n(&request.seq, seq, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&page_->header.server_sleeping, __ATOMIC_RELAXED)) {
      const char one = 1;
      // A full buffer is a wake-up already pending.
      [[maybe_unused]] ssize_t n =
          send(kick_fd_, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    if (Spin(seq)) return slot_->answer.result;
    return Sleep(seq);
  }

 private:
  bool Answered(uint32_t seq) const {
    return __atomic_load_n(&slot_->answer.seq, __ATOMIC_ACQUIRE) == seq;
  }

  // Polls for the answer for up to the adaptive budget: answers that come
  // in time keep it, a sleep halves it (down to 1 us), so a guest whose
  // server is asleep stops burning CPU on it.
  bool Spin(uint32_t seq) {
    const auto start = std::chrono::steady_clock::now();
    for (uint32_t i = 0;; ++i) {
      if (Answered(seq)) {
        spin_ns_ = std::min(max_spin_ns_, spin_ns_ + spin_ns_ / 8 + 1);
        return true;
      }
      __builtin_ia32_pause();
      // As the server's poll: now and then let a runnable task go first.
      if ((i & 1023) == 1023) sched_yield();
      if ((i & 31) == 31 &&
          std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::steady_clock::now() - start)
                  .count() > spin_ns_) {
        spin_ns_ = std::max<int64_t>(1000, spin_ns_ / 2);
        return false;
      }
    }
  }

  int64_t Sleep(uint32_t seq) {
    __atomic_store_n(&slot_->wait.guest_waiting, 1u, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    while (!Answered(seq)) {
      bool readable = false;
      if (!WaitReadable(answer_fd_, sock_, -1, &readable)) {
        gone_ = true;
        break;
      }
      if (readable) Drain(answer_fd_);
    }
    __atomic_store_n(&slot_->wait.guest_waiting, 0u, __ATOMIC_RELAXED);
    return gone_ ? kDaemonGone : slot_->answer.result;
  }

  DoorbellPage* const page_;
  DoorbellSlot* const slot_;
  const uint32_t vcpu_;
  const int kick_fd_;
  const int answer_fd_;
  const int sock_;
  const int64_t max_spin_ns_;
  int64_t spin_ns_;
  uint32_t seq_ = 0;
  bool gone_ = false;
};

absl::StatusOr<int> Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad attach socket path \"", path, "\""));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (sock < 0) return Unavailable("socket");
  if (connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("no argo-hv at ", path, ": ", strerror(errno)));
    close(sock);
    return s;
  }
  return sock;
}

absl::StatusOr<transport::Hello> MakeHello(const AttachOptions& options) {
  transport::Hello hello{};
  hello.magic = transport::kHelloMagic;
  hello.version = transport::kProtocolVersion;
  hello.mode = static_cast<uint8_t>(options.mode);
  if (options.vcpus < 1 || options.vcpus > transport::kMaxVcpus ||
      (options.mode == Mode::kBlocking && options.vcpus != 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("vcpus: ", options.vcpus, " (1 in blocking mode, 1..",
                     transport::kMaxVcpus, " in low-latency mode)"));
  }
  hello.vcpus = static_cast<uint8_t>(options.vcpus);
  if (options.level_cpus > ARGO_LEVEL_MAX_CPUS) {
    return absl::InvalidArgumentError(
        absl::StrCat("level_cpus: ", options.level_cpus, " (0 for a guest, 1..",
                     ARGO_LEVEL_MAX_CPUS, " for a child level)"));
  }
  hello.level_cpus = static_cast<uint8_t>(options.level_cpus);
  uint32_t id = 0;
  if (absl::SimpleAtoi(options.domain, &id)) {
    hello.domid = id;
  } else if (options.domain.empty() ||
             options.domain.size() >= sizeof(hello.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad domain \"", options.domain, "\""));
  } else {
    std::memcpy(hello.name, options.domain.data(), options.domain.size());
  }
  if (options.token.empty() || options.token.size() >= sizeof(hello.token)) {
    return absl::InvalidArgumentError(
        "bad attach token (argoctl domain token NAME issues one)");
  }
  std::memcpy(hello.token, options.token.data(), options.token.size());
  return hello;
}

// A connection argo-hv closed without a reason: it refuses peers of
// other uids, and connections beyond its bound of pending attaches.
absl::Status ClosedByDaemon() {
  return absl::UnavailableError(
      "argo-hv closed the connection (uid not allowed, or too many "
      "attaches in progress)");
}

absl::Status Refusal(const transport::Welcome& welcome) {
  const std::string why(welcome.message,
                        strnlen(welcome.message, sizeof(welcome.message)));
  switch (welcome.error) {
    case transport::kAttachNoSuchDomain:
      return absl::NotFoundError(why);
    case transport::kAttachBadToken:
      return absl::PermissionDeniedError(why);
    case transport::kAttachBusy:
      return absl::AlreadyExistsError(why);
    case transport::kAttachBadHello:
      return absl::InvalidArgumentError(why);
    default:
      return absl::UnavailableError(why);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Attachment>> Attachment::Attach(
    const AttachOptions& options) {
  absl::StatusOr<transport::Hello> hello = MakeHello(options);
  if (!hello.ok()) return hello.status();
  absl::StatusOr<int> sock = Connect(options.socket_path);
  if (!sock.ok()) return sock.status();
  std::unique_ptr<Attachment> a(new Attachment());
  a->sock_ = *sock;
  if (send(a->sock_, &*hello, sizeof(*hello), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(sizeof(*hello))) {
    // The daemon may close a refused peer before its hello is even sent.
    if (errno == EPIPE || errno == ECONNRESET) return ClosedByDaemon();
    return Unavailable("sending the attach request");
  }
  transport::Welcome welcome{};
  absl::StatusOr<transport::Received> got = transport::RecvWithFds(
      a->sock_,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&welcome),
                          sizeof(welcome)),
      transport::kMaxWelcomeFds);
  if (!got.ok()) return got.status();
  // Every received descriptor is ours to close, whatever happens next.
  a->owned_fds_ = got->fds;
  if (got->size == 0) return ClosedByDaemon();
  if (got->size != sizeof(welcome) || got->truncated ||
      welcome.magic != transport::kWelcomeMagic) {
    return absl::UnavailableError("the attach socket answered garbage");
  }
  if (welcome.error != transport::kAttachOk) return Refusal(welcome);
  const bool low_latency = options.mode == Mode::kLowLatency;
  const size_t expected =
      low_latency ? transport::kFdAnswer0 + options.vcpus : transport::kFdKick;
  if (got->fds.size() != expected || welcome.fd_count != expected) {
    return absl::UnavailableError("the welcome carried the wrong descriptors");
  }
  a->domid_ = static_cast<domid_t>(welcome.domid);
  a->mode_ = options.mode;
  // The memory memfd passes to GuestMemory (which closes it).
  const int memfd = got->fds[transport::kFdMemory];
  a->owned_fds_[transport::kFdMemory] = -1;
  struct stat st {};
  if (fstat(memfd, &st) != 0 ||
      static_cast<uint64_t>(st.st_size) < welcome.memory_frames * 4096) {
    close(memfd);
    return absl::UnavailableError("the guest memory is smaller than announced");
  }
  absl::StatusOr<std::shared_ptr<GuestMemory>> memory =
      GuestMemory::Adopt(memfd, welcome.memory_frames);
  if (!memory.ok()) return memory.status();
  a->memory_ = *std::move(memory);
  a->virq_fd_ = got->fds[transport::kFdVirq];
  a->owned_fds_[transport::kFdVirq] = -1;
  void* page = mmap(nullptr, transport::kDoorbellBytes, PROT_READ | PROT_WRITE,
                    MAP_SHARED, got->fds[transport::kFdDoorbell], 0);
  if (page == MAP_FAILED) return Unavailable("mapping the doorbell");
  a->doorbell_ = static_cast<DoorbellPage*>(page);
  if (!low_latency) {
    a->ports_.push_back(std::make_unique<BlockingPort>(a->sock_));
    return a;
  }
  for (uint32_t v = 0; v < options.vcpus; ++v) {
    a->ports_.push_back(std::make_unique<DoorbellPort>(
        a->doorbell_, v, got->fds[transport::kFdKick],
        got->fds[transport::kFdAnswer0 + v], a->sock_, options.max_spin));
  }
  return a;
}

Attachment::~Attachment() {
  ports_.clear();
  if (doorbell_ != nullptr) munmap(doorbell_, transport::kDoorbellBytes);
  for (int fd : owned_fds_) {
    if (fd >= 0) close(fd);
  }
  if (virq_fd_ >= 0) close(virq_fd_);
  if (sock_ >= 0) close(sock_);
}

absl::StatusOr<bool> Attachment::WaitVirq(absl::Duration timeout) {
  const absl::Time deadline = timeout == absl::InfiniteDuration()
                                  ? absl::InfiniteFuture()
                                  : absl::Now() + timeout;
  for (;;) {
    // Taking the pending flag is taking the VIRQ; the wake-up bytes only
    // say "look": drained, they never count on their own (wire.h).
    if (__atomic_exchange_n(&doorbell_->virq.pending, 0u, __ATOMIC_ACQ_REL)) {
      Drain(virq_fd_);
      return true;
    }
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      timeout_ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
          INT32_MAX));
    }
    bool readable = false;
    if (!WaitReadable(virq_fd_, sock_, timeout_ms, &readable)) {
      return absl::UnavailableError("argo-hv went away");
    }
    if (readable) Drain(virq_fd_);
  }
}

}  // namespace argo::guest
