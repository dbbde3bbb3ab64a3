#include "nesting/parent_link.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "argo_core/name_path.h"
#include "argo_core/public/argo_nesting.h"
#include "argo_core/xen_status.h"

namespace argo::nesting {
namespace {

// How long a drainer blocked on a full guest ring sleeps before it tries
// again (doubling from the first to the last): the level has no space
// wake-up for its own deliveries, and the wait is what pushes back.
constexpr absl::Duration kFirstBackoff = absl::Microseconds(20);
constexpr absl::Duration kLastBackoff = absl::Milliseconds(2);
// A drainer or the VIRQ thread looks at the world at least this often
// (stop requests; a lost wake-up can cost no more than this).
constexpr absl::Duration kIdleCheck = absl::Milliseconds(100);

}  // namespace

ParentLink::ParentLink(Level* level, std::unique_ptr<guest::Guest> parent)
    : level_(level), parent_(std::move(parent)) {}

absl::StatusOr<std::unique_ptr<ParentLink>> ParentLink::Start(
    Level* level, std::unique_ptr<guest::Guest> parent,
    ParentLinkOptions options) {
  if (options.cpus == 0 || options.cpus > ARGO_LEVEL_MAX_CPUS) {
    return absl::InvalidArgumentError(
        absl::StrCat("a level has 1..", ARGO_LEVEL_MAX_CPUS, " CPUs, not ",
                     options.cpus));
  }
  std::unique_ptr<ParentLink> link(new ParentLink(level, std::move(parent)));
  for (uint32_t cpu = 0; cpu < options.cpus; ++cpu) {
    auto b = std::make_unique<Buffer>();
    absl::StatusOr<GuestRing*> ring = link->parent_->RegisterRing(
        ARGO_LEVEL_RX_PORT_BASE + cpu, XEN_ARGO_DOMID_ANY,
        options.buffer_bytes);
    if (!ring.ok()) {
      return absl::Status(ring.status().code(),
                          absl::StrCat("receive buffer ", cpu,
                                       " in the parent: ",
                                       ring.status().message()));
    }
    b->ring = *ring;
    b->reader = std::make_unique<RingReader>(b->ring->header(), b->ring->len());
    link->buffers_.push_back(std::move(b));
  }
  level->hypervisor().SetUplink(link.get());
  if (options.threads) {
    link->threads_ = true;
    for (auto& b : link->buffers_) {
      b->drainer = std::thread([l = link.get(), p = b.get()] {
        l->DrainerLoop(p);
      });
    }
    link->virq_thread_ = std::thread([l = link.get()] { l->VirqLoop(); });
  }
  return link;
}

ParentLink::~ParentLink() { Stop(); }

void ParentLink::Stop() {
  // Sends in flight finish before the uplink's memory goes.
  level_->hypervisor().SetUplink(nullptr);
  level_->hypervisor().WaitForHypercalls();
  stopping_.store(true);
  for (auto& b : buffers_) {
    {
      MutexLock l(&b->mu);
      b->pending = true;
    }
    b->wake.notify_one();
    if (b->drainer.joinable()) b->drainer.join();
  }
  if (virq_thread_.joinable()) virq_thread_.join();
}

int64_t ParentLink::SendUp(const UpwardMessage& message) {
  if (lost_.load(std::memory_order_relaxed)) {
    counters_.up_refused.fetch_add(1, std::memory_order_relaxed);
    return -XEN_ECONNREFUSED;
  }
  // The block plus up to eight pieces of payload, as the parent's iovs
  // (eight at most): a sender that used every iov has its last two pieces
  // joined in one copy here (rare; the send copies them into the level's
  // memory anyway).
  absl::Span<const uint8_t> parts[XEN_ARGO_MAXIOV];
  size_t n = 0;
  std::vector<uint8_t> joined;
  for (size_t i = 0; i < message.parts.size(); ++i) {
    const MessagePart& piece = message.parts[i];
    if (n + 1 == XEN_ARGO_MAXIOV && i + 1 < message.parts.size()) {
      for (size_t j = i; j < message.parts.size(); ++j) {
        joined.insert(joined.end(), message.parts[j].data,
                      message.parts[j].data + message.parts[j].len);
      }
      parts[n++] = absl::MakeConstSpan(joined);
      break;
    }
    parts[n++] = absl::MakeConstSpan(piece.data, piece.len);
  }
  const xen_argo_addr_t implicit{0, ARGO_DOMID_IMPLICIT, 0};
  absl::StatusOr<uint32_t> sent = parent_->Sendv(
      message.parent_port, implicit, absl::MakeConstSpan(parts, n),
      ARGO_MSG_TYPE_PATH);
  if (sent.ok()) {
    counters_.up_sent.fetch_add(1, std::memory_order_relaxed);
    return *sent;
  }
  counters_.up_refused.fetch_add(1, std::memory_order_relaxed);
  const int e = XenErrnoOf(sent.status());
  if (e == XEN_EAGAIN) {
    // The parent queued u's wake-up on the full ring; pass it on.
    MutexLock l(&waiters_mu_);
    upstream_waiters_.insert(message.sender);
  } else if (e == XEN_EIO || e == 0) {
    lost_.store(true, std::memory_order_relaxed);
    return -XEN_ECONNREFUSED;
  }
  return -e;
}

bool ParentLink::DeliverOne(Buffer& b, const RingReader::Peeked& m) {
  NamePath path;
  const auto payload = absl::MakeConstSpan(m.parts, m.nparts);
  if (m.message_type != ARGO_MSG_TYPE_PATH || ParseNamePath(payload, &path) < 0) {
    b.dropped_malformed.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  Level& level = *level_;
  const ImplicitDestination to =
      level.table().Resolve(ARGO_DOMID_PARENT, 0, path.dst_port);
  if (to.rc != 0) {
    b.dropped_no_cable.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  HostMessage host;
  host.source = {path.dst_port, ARGO_DOMID_PARENT, 0};
  host.destination = {to.port, to.domid, 0};
  host.message_type = ARGO_MSG_TYPE_PATH;
  host.parts = payload;
  // A cable to a domain since re-created with the same id leads nowhere.
  host.destination_generation = to.domain_generation;
  host.path = &path;
  const int64_t rc = level.hypervisor().DeliverFromHost(host);
  if (rc >= 0) {
    b.down_delivered.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (rc == -XEN_EAGAIN) return false;
  (rc == -XEN_ELOOP ? b.dropped_loop : b.dropped_refused)
      .fetch_add(1, std::memory_order_relaxed);
  return true;
}

ParentLink::Drained ParentLink::DrainBuffer(Buffer& b, size_t* consumed) {
  for (;;) {
    RingReader::Peeked m;
    absl::StatusOr<bool> any = b.reader->Peek(&m);
    if (!any.ok()) {  // the reader reset the ring: what was there is lost
      b.dropped_malformed.fetch_add(1, std::memory_order_relaxed);
      b.notify_due = true;  // and all of it is free
      continue;
    }
    if (!*any) {
      SawInUse(b, 0);
      return Drained::kEmpty;
    }
    SawInUse(b, m.available);
    if (!DeliverOne(b, m)) {
      b.down_blocked.fetch_add(1, std::memory_order_relaxed);
      return Drained::kBlocked;
    }
    b.reader->Consume();
    b.last_consumed = m.slot_bytes;
    ++*consumed;
  }
}

size_t ParentLink::Pump() {
  if (threads_) return 0;
  size_t consumed = 0;
  bool notify = false;
  for (auto& b : buffers_) {
    DrainBuffer(*b, &consumed);
    notify |= TakeNotifyDue(*b);
  }
  // Room was made where a sender may wait: the parent wakes it.
  if (notify) parent_->NotifyNull().IgnoreError();
  return consumed;
}

size_t ParentLink::PumpBuffer(uint32_t cpu) {
  if (threads_ || cpu >= buffers_.size()) return 0;
  size_t consumed = 0;
  DrainBuffer(*buffers_[cpu], &consumed);
  if (TakeNotifyDue(*buffers_[cpu])) parent_->NotifyNull().IgnoreError();
  return consumed;
}

void ParentLink::DrainerLoop(Buffer* b) {
  absl::Duration backoff = kFirstBackoff;
  while (!stopping_.load(std::memory_order_relaxed)) {
    {
      MutexLock l(&b->mu);
      b->pending = false;
    }
    size_t consumed = 0;
    const Drained state = DrainBuffer(*b, &consumed);
    if (TakeNotifyDue(*b) && !parent_lost()) {
      if (!parent_->NotifyNull().ok()) lost_.store(true);
    }
    if (state == Drained::kBlocked) {
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, kLastBackoff);
      continue;
    }
    backoff = kFirstBackoff;
    MutexLock l(&b->mu);
    // A spurious or timed-out wake-up only costs one more empty drain.
    if (!b->pending) {
      b->wake.wait_for(b->mu, absl::ToChronoNanoseconds(kIdleCheck));
    }
  }
}

void ParentLink::WakeUpstreamWaiters() {
  absl::flat_hash_set<domid_t> woken;
  {
    MutexLock l(&waiters_mu_);
    woken.swap(upstream_waiters_);
  }
  for (domid_t d : woken) level_->notifier().RaiseVirq(d);
}

void ParentLink::VirqLoop() {
  while (!stopping_.load(std::memory_order_relaxed)) {
    absl::StatusOr<bool> raised = parent_->WaitVirq(kIdleCheck);
    if (!raised.ok()) {
      // The parent went away: nothing more comes down; senders waiting
      // upstream learn it on their retry.
      lost_.store(true);
      WakeUpstreamWaiters();
      return;
    }
    if (!*raised) continue;
    for (auto& b : buffers_) {
      if (b->reader->BytesAvailable() == 0) continue;
      {
        MutexLock l(&b->mu);
        b->pending = true;
      }
      b->wake.notify_one();
    }
    WakeUpstreamWaiters();
  }
}

ParentLink::Stats ParentLink::stats() const {
  Stats s;
  s.up_sent = counters_.up_sent.load(std::memory_order_relaxed);
  s.up_refused = counters_.up_refused.load(std::memory_order_relaxed);
  for (const auto& b : buffers_) {
    s.down_delivered += b->down_delivered.load(std::memory_order_relaxed);
    s.down_blocked += b->down_blocked.load(std::memory_order_relaxed);
    s.dropped_no_cable += b->dropped_no_cable.load(std::memory_order_relaxed);
    s.dropped_refused += b->dropped_refused.load(std::memory_order_relaxed);
    s.dropped_malformed +=
        b->dropped_malformed.load(std::memory_order_relaxed);
    s.dropped_loop += b->dropped_loop.load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace argo::nesting
