#include "transport/guest_server.h"

#include <errno.h>
#include <liburing.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "argo_core/mutex.h"
#include "argo_core/public/xen_errno.h"
#include "transport/fd_passing.h"
#include "transport/guest_connection.h"

namespace argo::transport {
namespace {

using Clock = std::chrono::steady_clock;

// What a completion is for: the low byte of its user_data (the rest is
// the connection's id; 0 is the server itself).
enum OpKind : uint8_t {
  kAccept = 1,
  kRecv = 2,     // a Hello, a frame (blocking), or a hang-up (low-latency)
  kSend = 3,     // an answer frame (blocking)
  kTimeout = 4,  // the Hello's linked timeout
  kKick = 5,     // a low-latency guest's wake socket
  kWake = 6,     // the server's own command eventfd
  kAcceptRetry = 7,  // a pause before accepting again after a failure
  kCancel = 8,       // a cancel of a closing connection's receive
};

constexpr uint64_t Tag(uint64_t conn_id, OpKind kind) {
  return (conn_id << 8) | kind;
}

template <typename T>
T LoadAcquire(const T* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
template <typename T>
void StoreRelease(T* p, T v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
template <typename T>
T LoadRelaxed(const T* p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}
template <typename T>
void StoreRelaxed(T* p, T v) {
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

}  // namespace

class GuestServer::Loop {
 public:
  Loop(int listen_fd, Hypervisor* hypervisor, AttachAuthority* authority,
       VirqSockets* virqs, GuestServerOptions options)
      : listen_fd_(listen_fd),
        hypervisor_(hypervisor),
        authority_(authority),
        virqs_(virqs),
        options_(std::move(options)),
        spin_budget_(ToNanos(options_.min_server_spin)) {}

  ~Loop() {
    if (thread_.joinable()) {
      Command stop{Command::kStop, 0};
      Post(stop);
      thread_.join();
    }
    if (ring_ready_) io_uring_queue_exit(&ring_);
    CloseFd(wake_fd_);
  }

  absl::Status Init() {
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("eventfd: ", strerror(errno)));
    }
    // The ring is created on the loop's own thread (a single-issuer ring
    // belongs to the thread that made it); Init waits for the outcome.
    std::promise<int> created;
    std::future<int> outcome = created.get_future();
    thread_ = std::thread([this, &created] {
      const int rc = CreateRing();
      created.set_value(rc);
      if (rc == 0) Run();
    });
    const int rc = outcome.get();
    if (rc < 0) {
      thread_.join();
      return absl::UnavailableError(
          absl::StrCat("io_uring_queue_init: ", strerror(-rc)));
    }
    return absl::OkStatus();
  }

  // Single issuer with deferred task work (Linux 6.1+): completions are
  // run when this loop asks for them, in its own context, instead of
  // interrupting it (or waking it twice) as they come; older kernels
  // refuse the flags and get a plain ring.
  int CreateRing() {
    int rc = io_uring_queue_init(
        512, &ring_, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    deferred_task_work_ = rc == 0;
    if (rc == -EINVAL) rc = io_uring_queue_init(512, &ring_, 0);
    ring_ready_ = rc == 0;
    return rc;
  }

  void Evict(domid_t domid) {
    Command evict{Command::kEvict, domid};
    Post(evict);
  }

  uint32_t attached_count() const {
    return attached_count_.load(std::memory_order_relaxed);
  }

 private:
  struct Command {
    enum Kind { kEvict, kStop } kind;
    domid_t domid;
    bool done = false;
  };

  static int64_t ToNanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

  // Hands `command` to the loop and waits until it has run.
  void Post(Command& command) {
    MutexLock l(&commands_mu_);
    commands_.push_back(&command);
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
    while (!command.done) commands_cv_.wait(commands_mu_);
  }

  // ---- Submission helpers: every SQE counts against its connection. -----

  io_uring_sqe* Sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void ArmAccept() {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, Tag(0, kAccept));
  }

  void ArmWake() {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof(wake_buf_), 0);
    io_uring_sqe_set_data64(sqe, Tag(0, kWake));
  }

  void ArmRecv(GuestConnection& c, bool with_timeout) {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_recv(sqe, c.sock, c.rx, sizeof(c.rx), 0);
    io_uring_sqe_set_data64(sqe, Tag(c.id, kRecv));
    ++c.inflight;
    if (!with_timeout) return;
    sqe->flags |= IOSQE_IO_LINK;
    c.hello_timeout.tv_sec = absl::ToInt64Seconds(options_.hello_timeout);
    c.hello_timeout.tv_nsec =
        ToNanos(options_.hello_timeout) % 1'000'000'000;
    io_uring_sqe* timeout = Sqe();
    io_uring_prep_link_timeout(timeout, &c.hello_timeout, 0);
    io_uring_sqe_set_data64(timeout, Tag(c.id, kTimeout));
    ++c.inflight;
  }

  // The answer, then (linked: only after it is out) the next receive, so
  // the answer buffer is never rewritten while the kernel may read it.
  void ArmSendThenRecv(GuestConnection& c) {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_send(sqe, c.sock, &c.tx, sizeof(c.tx), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, Tag(c.id, kSend));
    sqe->flags |= IOSQE_IO_LINK;
    ++c.inflight;
    io_uring_sqe* recv = Sqe();
    io_uring_prep_recv(recv, c.sock, c.rx, sizeof(c.rx), 0);
    io_uring_sqe_set_data64(recv, Tag(c.id, kRecv));
    ++c.inflight;
  }

  void ArmKick(GuestConnection& c) {
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_recv(sqe, c.kick.local, c.kick_buf, sizeof(c.kick_buf), 0);
    io_uring_sqe_set_data64(sqe, Tag(c.id, kKick));
    ++c.inflight;
  }

  // ---- The loop ------------------------------------------------------------

  void Run() {
    ArmAccept();
    ArmWake();
    io_uring_submit(&ring_);
    Clock::time_point last_work = Clock::now();
    while (!stopping_) {
      const bool completions = ReapCompletions();
      if (ServeDoorbells()) {
        // A doorbell rang while polling: the poll paid off, poll longer.
        if (polling_) {
          spin_budget_ =
              std::min(spin_budget_ * 2, ToNanos(options_.max_server_spin));
        }
        polling_ = false;
        last_work = Clock::now();
        continue;
      }
      // Completions (blocking frames, attaches) are served but start no
      // poll: only doorbells are polled, and a blocking guest sleeps on
      // its socket anyway.
      if (completions) continue;
      if (!low_latency_.empty()) {
        // The clock is read every 16th idle pass: the passes between are
        // pure doorbell polls, answered a little sooner.
        if ((++idle_passes_ & 15) != 0 ||
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                Clock::now() - last_work)
                    .count() < spin_budget_) {
          if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
          // Deferred completions (blocking guests' frames, attaches) are
          // posted only when asked for: ask every 64th idle pass.
          if (deferred_task_work_ && (idle_passes_ & 63) == 0) {
            io_uring_get_events(&ring_);
          }
          polling_ = true;
          CpuRelax();
          // Now and then let another runnable task on this CPU go first:
          // on a host with fewer CPUs than busy parties (a guest spinning
          // for its answer, its receiver, this loop), a poll that never
          // yields starves the receiver until the scheduler's tick.
          if ((idle_passes_ & 1023) == 0) sched_yield();
          continue;
        }
        if (polling_) {
          spin_budget_ =
              std::max(spin_budget_ / 2, ToNanos(options_.min_server_spin));
        }
      }
      polling_ = false;
      if (AnnounceSleep()) {
        io_uring_submit_and_wait(&ring_, 1);
      } else {
        io_uring_submit(&ring_);
      }
      EndSleep();
      last_work = Clock::now();
    }
    Shutdown();
  }

  bool ReapCompletions() {
    unsigned head;
    unsigned count = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      const uint64_t data = cqe->user_data;
      const int res = cqe->res;
      ++count;
      Complete(data >> 8, static_cast<OpKind>(data & 0xff), res);
    }
    io_uring_cq_advance(&ring_, count);
    return count > 0;
  }

  void Complete(uint64_t conn_id, OpKind kind, int res) {
    if (conn_id == 0) {
      if (kind == kAccept) return Accepted(res);
      if (kind == kWake) return RunCommands();
      if (kind == kAcceptRetry) return ArmAccept();
      return;
    }
    auto it = conns_.find(conn_id);
    if (it == conns_.end()) return;
    GuestConnection& c = *it->second;
    --c.inflight;
    if (c.state == GuestConnection::kClosing) {
      MaybeFree(c);
      return;
    }
    switch (kind) {
      case kRecv:
        return Received(c, res);
      case kSend:
        if (res != static_cast<int>(sizeof(HypercallFrame)) &&
            res != -ECANCELED) {
          Close(c, DetachReason::kClosed, "the answer could not be sent");
        }
        return;
      case kKick:
        // Any datagram is a wake-up, an empty one too (datagram sockets
        // have no end of file; a close is seen on the main socket).
        if (res < 0 && res != -EAGAIN && res != -EINTR) {
          Close(c, DetachReason::kClosed, "wake socket failed");
          return;
        }
        ArmKick(c);  // the doorbells are scanned every pass anyway
        return;
      case kTimeout:
      default:
        return;  // the Hello's receive reports the timeout as -ECANCELED
    }
  }

  void Received(GuestConnection& c, int res) {
    if (res == -ECANCELED && c.state == GuestConnection::kHello) {
      return Refuse(c, kAttachBadHello, "no hello within the time allowed");
    }
    if (res == -ECANCELED) return;  // a linked receive after a failed send
    if (res <= 0) {
      return Close(c, DetachReason::kClosed,
                   res == 0 ? "the process exited or was killed"
                            : strerror(-res));
    }
    const absl::Span<const uint8_t> bytes(c.rx, static_cast<size_t>(res));
    if (c.state == GuestConnection::kHello) return OnHello(c, bytes);
    if (c.mode == Mode::kLowLatency) {
      return Close(c, DetachReason::kProtocolError,
                   "a low-latency guest sent a frame on its socket");
    }
    if (bytes.size() != sizeof(HypercallFrame)) {
      return Close(c, DetachReason::kProtocolError,
                   absl::StrCat("a ", bytes.size(), "-byte frame"));
    }
    c.tx = Execute(c, bytes, /*vcpu=*/0);
    ArmSendThenRecv(c);
  }

  // Decodes and runs one frame, which arrived on `vcpu`'s channel, as the
  // connection's domain. A frame of the right size that does not decode,
  // or names another vcpu, is answered -EINVAL (the guest's transport
  // library is broken; the guest can see it).
  HypercallFrame Execute(GuestConnection& c, absl::Span<const uint8_t> bytes,
                         uint32_t vcpu) {
    absl::StatusOr<HypercallRequest> request = DecodeFrame(bytes, c.vcpus - 1);
    if (!request.ok() || request->vcpu != vcpu) {
      HypercallRequest echo{};
      std::memcpy(&echo.seq, bytes.data() + offsetof(HypercallFrame, seq),
                  sizeof(echo.seq));
      ++malformed_frames_;
      return AnswerFrame(echo, -XEN_EINVAL);
    }
    const int64_t result = hypervisor_->ArgoOp(
        c.domid, request->cmd, request->arg[0], request->arg[1],
        request->arg[2], request->arg[3]);
    return AnswerFrame(*request, result);
  }

  // ---- Accept and attach ----------------------------------------------------

  void Accepted(int fd) {
    if (fd < 0) {
      // Out of descriptors or the like: the waiting connection would fail
      // the next accept at once, so pause before trying again instead of
      // spinning.
      if (stopping_) return;
      io_uring_sqe* sqe = Sqe();
      io_uring_prep_timeout(sqe, &accept_retry_, 0, 0);
      io_uring_sqe_set_data64(sqe, Tag(0, kAcceptRetry));
      return;
    }
    ArmAccept();
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        !Allowed(cred.uid) || pending_ >= options_.max_pending) {
      close(fd);
      return;
    }
    auto conn = std::make_unique<GuestConnection>();
    conn->id = next_id_++;
    conn->sock = fd;
    conn->pid = cred.pid;
    GuestConnection& c = *conn;
    conns_.emplace(c.id, std::move(conn));
    ++pending_;
    ArmRecv(c, /*with_timeout=*/true);
  }

  bool Allowed(uid_t uid) const {
    if (uid == geteuid()) return true;
    return std::find(options_.allowed_uids.begin(), options_.allowed_uids.end(),
                     uid) != options_.allowed_uids.end();
  }

  void OnHello(GuestConnection& c, absl::Span<const uint8_t> bytes) {
    absl::StatusOr<AttachRequest> request = DecodeHello(bytes);
    if (!request.ok()) {
      return Refuse(c, kAttachBadHello, request.status().message());
    }
    if (attached_count() >= options_.max_guests) {
      return Refuse(c, kAttachUnavailable, "the daemon serves its maximum of guests");
    }
    absl::StatusOr<AttachGrant> grant = authority_->Attach(*request, c.pid);
    if (!grant.ok()) {
      return Refuse(c, AttachErrorFor(grant.status()), grant.status().message());
    }
    c.domid = grant->domid;
    c.memory = std::move(grant->memory);
    c.mode = request->mode;
    c.vcpus = request->vcpus;
    absl::Status ready = c.PrepareChannels();
    std::vector<int> fds;
    if (ready.ok()) {
      fds = {c.memory->fd(), c.virq.remote, c.doorbell_fd};
      if (c.mode == Mode::kLowLatency) {
        fds.push_back(c.kick.remote);
        for (uint32_t v = 0; v < c.vcpus; ++v) fds.push_back(c.answer[v].remote);
      }
      Welcome welcome = MakeWelcome(kAttachOk, "");
      welcome.domid = c.domid;
      welcome.memory_frames = c.memory->nframes();
      welcome.mode = static_cast<uint8_t>(c.mode);
      welcome.vcpus = static_cast<uint8_t>(c.vcpus);
      welcome.fd_count = static_cast<uint16_t>(fds.size());
      ready = SendWithFds(
          c.sock, {reinterpret_cast<const uint8_t*>(&welcome), sizeof(welcome)},
          fds);
    }
    --pending_;
    c.state = GuestConnection::kAttached;
    ++attached_count_;
    by_domain_[c.domid] = &c;
    if (!ready.ok()) {
      // The authority already counts it attached: detach the normal way
      // (the guest never ran, so its crash reset is a no-op).
      return Close(c, DetachReason::kClosed, ready.message());
    }
    // The guest's copies are its own now; ours of its ends go.
    CloseFd(c.virq.remote);
    CloseFd(c.kick.remote);
    for (uint32_t v = 0; v < c.vcpus; ++v) CloseFd(c.answer[v].remote);
    virqs_->Install(c.domid, c.virq.local, &c.doorbell->virq.pending);
    c.virq.local = -1;  // VirqSockets owns it
    if (c.mode == Mode::kLowLatency) {
      low_latency_.push_back(&c);
      ArmKick(c);
    }
    ArmRecv(c, /*with_timeout=*/false);
  }

  static Welcome MakeWelcome(AttachError error, absl::string_view message) {
    Welcome welcome{};
    welcome.magic = kWelcomeMagic;
    welcome.version = kProtocolVersion;
    welcome.error = error;
    const size_t n = std::min(message.size(), sizeof(welcome.message) - 1);
    std::memcpy(welcome.message, message.data(), n);
    return welcome;
  }

  // A refused attach: the reason, then the connection goes. Nothing was
  // recorded anywhere.
  void Refuse(GuestConnection& c, AttachError error, absl::string_view message) {
    const Welcome welcome = MakeWelcome(error, message);
    (void)SendWithFds(
        c.sock, {reinterpret_cast<const uint8_t*>(&welcome), sizeof(welcome)},
        {});
    Close(c, DetachReason::kClosed, message);
  }

  // ---- Low-latency doorbells ---------------------------------------------

  // One request per slot per guest per pass (round-robin fairness).
  bool ServeDoorbells() {
    bool served = false;
    for (size_t i = 0; i < low_latency_.size(); ++i) {
      GuestConnection& c = *low_latency_[i];
      for (uint32_t v = 0; v < c.vcpus; ++v) {
        DoorbellSlot& slot = c.doorbell->slot[v];
        const uint32_t seq = LoadAcquire(&slot.request.seq);
        if (seq == c.served_seq[v]) continue;
        // One snapshot: the guest may rewrite the slot while we decode.
        alignas(8) uint8_t bytes[sizeof(HypercallFrame)];
        std::memcpy(bytes, &slot.request, sizeof(bytes));
        std::memcpy(bytes + offsetof(HypercallFrame, seq), &seq, sizeof(seq));
        const HypercallFrame answer = Execute(c, bytes, v);
        StoreRelaxed(&slot.answer.result, answer.result);
        StoreRelease(&slot.answer.seq, seq);
        c.served_seq[v] = seq;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (LoadRelaxed(&slot.wait.guest_waiting) != 0) Wake(c.answer[v].local);
        served = true;
      }
    }
    return served;
  }

  // Tells every low-latency guest the loop is about to sleep; false (and
  // no sleep) if a request arrived meanwhile.
  bool AnnounceSleep() {
    for (GuestConnection* c : low_latency_) StoreRelaxed(&c->doorbell->header.server_sleeping, 1u);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (GuestConnection* c : low_latency_) {
      for (uint32_t v = 0; v < c->vcpus; ++v) {
        if (LoadRelaxed(&c->doorbell->slot[v].request.seq) != c->served_seq[v]) {
          return false;
        }
      }
    }
    return true;
  }

  void EndSleep() {
    for (GuestConnection* c : low_latency_) StoreRelaxed(&c->doorbell->header.server_sleeping, 0u);
  }

  // ---- Detach ------------------------------------------------------------

  // Ends the connection: the authority hears of an attached one at once
  // (no hypercall of it runs after this); its descriptors and buffers go
  // once the kernel has returned every operation on them.
  void Close(GuestConnection& c, DetachReason reason, absl::string_view detail) {
    if (c.state == GuestConnection::kClosing) return;
    if (c.state == GuestConnection::kHello) --pending_;
    if (c.state == GuestConnection::kAttached) {
      virqs_->Remove(c.domid);
      by_domain_.erase(c.domid);
      low_latency_.erase(
          std::remove(low_latency_.begin(), low_latency_.end(), &c),
          low_latency_.end());
      --attached_count_;
      authority_->Detached(c.domid, c.pid, reason, detail);
    }
    c.state = GuestConnection::kClosing;
    // Completes the receive (0) and any send (error) in flight...
    shutdown(c.sock, SHUT_RDWR);
    // ...and the wake socket's receive.
    if (c.kick.local >= 0) {
      io_uring_sqe* sqe = Sqe();
      io_uring_prep_cancel64(sqe, Tag(c.id, kKick), 0);
      io_uring_sqe_set_data64(sqe, Tag(0, kCancel));  // nothing to do
    }
    MaybeFree(c);
  }

  void MaybeFree(GuestConnection& c) {
    if (c.state != GuestConnection::kClosing || c.inflight > 0) return;
    conns_.erase(c.id);  // destroys c: its descriptors and page go
  }

  // ---- Commands from other threads ---------------------------------------

  void RunCommands() {
    std::deque<Command*> commands;
    {
      MutexLock l(&commands_mu_);
      commands.swap(commands_);
    }
    for (Command* command : commands) {
      if (command->kind == Command::kStop) {
        stopping_ = true;
      } else {
        auto it = by_domain_.find(command->domid);
        if (it != by_domain_.end()) {
          Close(*it->second, DetachReason::kEvicted, "evicted by the toolstack");
        }
      }
    }
    // Acknowledge only after the closes: no hypercall of an evicted guest
    // runs after Evict returns.
    MutexLock l(&commands_mu_);
    for (Command* command : commands) command->done = true;
    commands_cv_.notify_all();
    if (!stopping_) ArmWake();
  }

  // Detaches everyone and waits for the kernel to hand back every buffer.
  void Shutdown() {
    std::vector<GuestConnection*> all;
    for (auto& [id, conn] : conns_) all.push_back(conn.get());
    for (GuestConnection* c : all) Close(*c, DetachReason::kEvicted, "the daemon is stopping");
    io_uring_prep_cancel_fd(Sqe(), listen_fd_, 0);
    io_uring_submit(&ring_);
    while (!conns_.empty()) {
      io_uring_submit_and_wait(&ring_, 1);
      ReapCompletions();
    }
  }

  static void CpuRelax() { __builtin_ia32_pause(); }

  const int listen_fd_;
  Hypervisor* const hypervisor_;
  AttachAuthority* const authority_;
  VirqSockets* const virqs_;
  const GuestServerOptions options_;

  io_uring ring_{};
  bool ring_ready_ = false;
  bool deferred_task_work_ = false;
  int wake_fd_ = -1;
  uint64_t wake_buf_ = 0;
  __kernel_timespec accept_retry_{0, 100'000'000};
  std::thread thread_;

  Mutex commands_mu_;
  std::condition_variable_any commands_cv_;
  std::deque<Command*> commands_ ABSL_GUARDED_BY(commands_mu_);

  // Loop-thread state.
  bool stopping_ = false;
  bool polling_ = false;
  uint32_t idle_passes_ = 0;
  int64_t spin_budget_;
  uint64_t next_id_ = 1;
  uint32_t pending_ = 0;
  uint64_t malformed_frames_ = 0;
  absl::flat_hash_map<uint64_t, std::unique_ptr<GuestConnection>> conns_;
  absl::flat_hash_map<domid_t, GuestConnection*> by_domain_;
  std::vector<GuestConnection*> low_latency_;
  std::atomic<uint32_t> attached_count_{0};
};

absl::StatusOr<std::unique_ptr<GuestServer>> GuestServer::Start(
    int listen_fd, Hypervisor* hypervisor, AttachAuthority* authority,
    VirqSockets* virqs, GuestServerOptions options) {
  auto loop = std::make_unique<Loop>(listen_fd, hypervisor, authority, virqs,
                                     std::move(options));
  absl::Status started = loop->Init();
  if (!started.ok()) return started;
  return std::unique_ptr<GuestServer>(new GuestServer(std::move(loop)));
}

GuestServer::GuestServer(std::unique_ptr<Loop> loop) : loop_(std::move(loop)) {}
GuestServer::~GuestServer() = default;

void GuestServer::Evict(domid_t domid) { loop_->Evict(domid); }

uint32_t GuestServer::attached_count() const {
  return loop_->attached_count();
}

}  // namespace argo::transport
