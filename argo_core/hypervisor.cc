// Domain lifecycle, the hypercall dispatch, and teardown. The ops live in
// hypervisor_rings.cc, hypervisor_sendv.cc and hypervisor_notify.cc.
#include "argo_core/hypervisor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"
#include "argo_core/public/xen_errno.h"

namespace argo {

Hypervisor::Hypervisor(HypervisorOptions options, VirqNotifier* notifier,
                       AccessControl* access_control,
                       ImplicitResolver* implicit)
    : options_(options),
      notifier_(notifier),
      xsm_(access_control),
      implicit_(implicit),
      level_mappings_(options.max_window_segments),
      domains_(DOMID_FIRST_RESERVED) {}

Hypervisor::~Hypervisor() {
  // Tear down in order so no ring outlives the bookkeeping that names it.
  for (domid_t domid : ListDomains()) DestroyDomain(domid).IgnoreError();
}

void Hypervisor::VirqBatch::DeliverMany(VirqNotifier& notifier) {
  more_.push_back(first_);
  std::sort(more_.begin(), more_.end());
  auto end = std::unique(more_.begin(), more_.end());
  for (auto it = more_.begin(); it != end; ++it) notifier.RaiseVirq(*it);
}

absl::Status Hypervisor::CreateDomain(domid_t domid,
                                      const DomainConfig& config) {
  if (!IsNormalDomid(domid)) {
    return absl::InvalidArgumentError(
        absl::StrCat("domid ", domid, " is reserved; domains use 0..",
                     DOMID_FIRST_RESERVED - 1));
  }
  if (DomainExists(domid)) {
    return absl::AlreadyExistsError(absl::StrCat("domain ", domid, " exists"));
  }
  // Allocate outside L1: memfd and mmap are system calls.
  absl::StatusOr<std::shared_ptr<GuestMemory>> memory = GuestMemory::Create(
      config.memory_frames, absl::StrCat("argo-dom", domid));
  if (!memory.ok()) return memory.status();

  WriteGuard l1(&l1_mu_);
  if (domains_[domid] != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("domain ", domid, " exists"));
  }
  // Xen's argo_init: Argo only if the domain asks for it and XSM allows.
  // (Checked under L1: a policy is freed only after a grace period.)
  bool argo = config.argo_enabled && XsmEnable(domid) == 0;
  domains_[domid] = std::make_unique<Domain>(domid, next_generation_++,
                                             *std::move(memory), argo);
  live_domids_.insert(
      std::lower_bound(live_domids_.begin(), live_domids_.end(), domid),
      domid);
  return absl::OkStatus();
}

absl::Status Hypervisor::ResetDomain(domid_t domid) {
  return TearDown(domid, /*remove=*/false);
}

absl::Status Hypervisor::DestroyDomain(domid_t domid) {
  return TearDown(domid, /*remove=*/true);
}

absl::Status Hypervisor::TearDown(domid_t domid, bool remove) {
  std::unique_ptr<Domain> removed;
  std::vector<RingChange> changes;
  VirqBatch virqs;
  {
    WriteGuard l1(&l1_mu_);
    Domain* d = FindDomain(domid);
    if (d == nullptr) {
      return absl::NotFoundError(absl::StrCat("no domain ", domid));
    }
    TearDownArgo(*d, &changes, &virqs);
    if (remove) {
      removed = std::move(domains_[domid]);
      live_domids_.erase(
          std::lower_bound(live_domids_.begin(), live_domids_.end(), domid));
    }
  }
  virqs.Deliver(*notifier_);
  ReportRingChanges(changes);
  if (removed != nullptr) {
    // Outside every lock: drop the domain's cables and label; its memory
    // is unmapped when the last reference goes.
    if (implicit_ != nullptr) {
      implicit_->OnDomainDestroyed(domid, removed->generation);
    }
    if (xsm_ != nullptr) xsm_->OnDomainDestroyed(domid);
  }
  return absl::OkStatus();
}

std::shared_ptr<GuestMemory> Hypervisor::DomainMemory(domid_t domid) {
  ReadGuard l1(&l1_mu_);
  Domain* d = FindDomain(domid);
  return d != nullptr ? d->memory : nullptr;
}

bool Hypervisor::DomainExists(domid_t domid) {
  ReadGuard l1(&l1_mu_);
  return FindDomain(domid) != nullptr;
}

absl::StatusOr<DomainInfo> Hypervisor::GetDomainInfo(domid_t domid) {
  ReadGuard l1(&l1_mu_);
  Domain* d = FindDomain(domid);
  if (d == nullptr)
    return absl::NotFoundError(absl::StrCat("no domain ", domid));
  DomainInfo info{.domid = domid,
                  .memory_frames = d->memory->nframes(),
                  .argo_enabled = d->argo_enabled};
  info.messages_sent = d->sent.messages.load(std::memory_order_relaxed);
  info.bytes_sent = d->sent.bytes.load(std::memory_order_relaxed);
  info.eagain = d->sent.eagain.load(std::memory_order_relaxed);
  {
    ReadGuard rings_l2(&d->rings_l2_mu_);
    info.ring_count = d->rings.size();
    info.window_segments = d->mappings.used();
    info.messages_received = d->retired_in.messages_in;
    info.bytes_received = d->retired_in.bytes_in;
    d->rings.ForEach([&info](RingInfo* ring) {
      SpinLockGuard l3(&ring->l3_mu_);
      const RingCounters counters = ring->counters();
      info.messages_received += counters.messages_in;
      info.bytes_received += counters.bytes_in;
    });
  }
  {
    MutexLock send_l2(&d->send_l2_mu_);
    info.partner_records = static_cast<uint32_t>(d->send_info.size());
  }
  MutexLock wildcard_l2(&d->wildcard_l2_mu_);
  info.wildcard_waits = static_cast<uint32_t>(d->wildcard_waits.size());
  return info;
}

absl::StatusOr<uint32_t> Hypervisor::DomainGeneration(domid_t domid) {
  ReadGuard l1(&l1_mu_);
  Domain* d = FindDomain(domid);
  if (d == nullptr)
    return absl::NotFoundError(absl::StrCat("no domain ", domid));
  return d->generation;
}

void Hypervisor::WaitForHypercalls() { WriteGuard l1(&l1_mu_); }

absl::optional<RingSnapshot> Hypervisor::LookupRing(domid_t dst,
                                                    xen_argo_port_t aport,
                                                    domid_t sender) {
  ReadGuard l1(&l1_mu_);
  Domain* d = FindDomain(dst);
  if (d == nullptr || !d->argo_enabled) return absl::nullopt;
  ReadGuard rings_l2(&d->rings_l2_mu_);
  RingInfo* ring = FindRingByMatch(*d, aport, sender);
  if (ring == nullptr) return absl::nullopt;
  SpinLockGuard l3(&ring->l3_mu_);
  return ring->Snapshot();
}

int64_t Hypervisor::DeliverFromHost(const HostMessage& message) {
  domid_t partner = XEN_ARGO_DOMID_ANY;
  const int64_t rc = DeliverFromHostRoute(message, &partner);
  TrafficTap* tap = tap_.load(std::memory_order_acquire);
  if (__builtin_expect(tap == nullptr, 1)) return rc;
  TapRecord record;
  record.source = message.source;
  record.ring = message.destination;
  record.ring_partner = partner;
  record.message_type = message.message_type;
  record.from_host = true;
  record.xen_errno = rc < 0 ? static_cast<uint16_t>(-rc) : 0;
  uint64_t total = 0;
  for (const MessagePart& part : message.parts) total += part.len;
  record.payload_len =
      static_cast<uint32_t>(std::min<uint64_t>(total, UINT32_MAX));
  // Under L1 like a guest's send, so WaitForHypercalls also waits for
  // this report (a tap may free what it reports into after that).
  ReadGuard l1(&l1_mu_);
  tap->OnMessage(record, message.parts);
  return rc;
}

int64_t Hypervisor::DeliverFromHostRoute(const HostMessage& message,
                                         domid_t* partner) {
  if (message.parts.size() > XEN_ARGO_MAXIOV) return -XEN_EINVAL;
  uint64_t total = 0;
  for (const MessagePart& part : message.parts) total += part.len;
  if (total > kMaxMessageSize) return -XEN_EMSGSIZE;
  if (message.source.pad != 0 || message.destination.pad != 0) {
    return -XEN_EINVAL;
  }
  int64_t rc;
  domid_t receiver;
  {
    ReadGuard l1(&l1_mu_);
    Domain* dst = FindDomain(message.destination.domain_id);
    if (dst == nullptr) return -XEN_ESRCH;
    if (message.destination_generation != 0 &&
        dst->generation != message.destination_generation) {
      return -XEN_ECONNREFUSED;
    }
    if (!dst->argo_enabled) return -XEN_ECONNREFUSED;
    receiver = dst->domid;
    if (dst->level_cpus.load(std::memory_order_relaxed) != 0) {
      // Down to a child level (a message that came down to this level and
      // goes further down): the host is a level's forwarder, so the
      // message may carry its path already.
      if (message.destination.aport >= ARGO_LEVEL_RX_PORT_BASE) {
        return -XEN_ECONNREFUSED;
      }
      NestedMessage m;
      if (int err = BuildNested(
              /*from_level=*/true, message.source, message.message_type,
              message.parts.data(), static_cast<uint32_t>(message.parts.size()),
              message.destination.aport, &m, message.path);
          err != 0) {
        return err;
      }
      rc = InsertInLevel(*dst, message.source, m, XEN_ARGO_DOMID_ANY);
      if (rc >= 0) rc = static_cast<int64_t>(total);
    } else {
      ReadGuard rings_l2(&dst->rings_l2_mu_);
      RingInfo* ring = FindRingByMatch(*dst, message.destination.aport,
                                       message.source.domain_id);
      if (ring == nullptr) return -XEN_ECONNREFUSED;
      *partner = ring->id().partner_id;
      SpinLockGuard l3(&ring->l3_mu_);
      rc = ring->InsertHost(message.source, message.message_type,
                            message.parts, static_cast<uint32_t>(total));
    }
  }
  if (rc >= 0) notifier_->RaiseVirq(receiver);
  return rc;
}

std::vector<domid_t> Hypervisor::ListDomains() {
  ReadGuard l1(&l1_mu_);
  return live_domids_;
}

std::vector<RingSnapshot> Hypervisor::ListRings() {
  std::vector<RingSnapshot> out;
  ReadGuard l1(&l1_mu_);
  for (domid_t domid : live_domids_) {
    Domain* d = domains_[domid].get();
    ReadGuard rings_l2(&d->rings_l2_mu_);
    d->rings.ForEach([&out](RingInfo* ring) {
      SpinLockGuard l3(&ring->l3_mu_);
      out.push_back(ring->Snapshot());
    });
  }
  return out;
}

int64_t Hypervisor::ArgoOp(domid_t caller, unsigned int cmd, uint64_t arg1,
                           uint64_t arg2, uint64_t arg3, uint64_t arg4) {
  // The common checks, in Xen's order (do_argo_op).
  if (arg3 != static_cast<uint32_t>(arg3) ||
      arg4 != static_cast<uint32_t>(arg4)) {
    return -XEN_EINVAL;
  }
  if (!options_.argo_enabled) return -XEN_EOPNOTSUPP;

  VirqBatch virqs;
  std::vector<RingChange> changes;  // allocates only when a ring changes
  int64_t rc;
  {
    ReadGuard l1(&l1_mu_);
    Domain* currd = FindDomain(caller);
    if (currd == nullptr) return -XEN_ESRCH;
    rc = CachedXsmEnable(*currd);
    if (rc == 0) {
      const uint32_t a3 = static_cast<uint32_t>(arg3);
      const uint32_t a4 = static_cast<uint32_t>(arg4);
      switch (cmd) {
        case XEN_ARGO_OP_register_ring:
          rc = RegisterRing(*currd, arg1, arg2, a3, a4, &changes);
          break;
        case XEN_ARGO_OP_unregister_ring:
          rc = UnregisterRing(*currd, arg1, arg2, arg3, arg4, &changes);
          break;
        case XEN_ARGO_OP_sendv:
          rc = Sendv(*currd, arg1, arg2, a3, a4, virqs);
          break;
        case XEN_ARGO_OP_notify:
          rc = Notify(*currd, arg1, arg2, arg3, arg4, virqs);
          break;
        default:
          rc = -XEN_EOPNOTSUPP;
          break;
      }
    }
  }
  virqs.Deliver(*notifier_);
  ReportRingChanges(changes);
  return rc;
}

// ---- Waiters ---------------------------------------------------------------

int Hypervisor::PendingRequeue(RingInfo& ring, domid_t waiter, uint32_t len) {
  bool added = false;
  int rc = ring.PendingRequeue(waiter, len, &added);
  if (rc == 0 && added && ring.is_wildcard()) {
    Domain* w = FindDomain(waiter);
    ABSL_ASSERT(w != nullptr);  // the waiter is the caller: alive under L1
    MutexLock wildcard_l2(&w->wildcard_l2_mu_);
    w->wildcard_waits.insert(&ring);
  }
  return rc;
}

void Hypervisor::PendingCancel(RingInfo& ring, domid_t waiter) {
  if (ring.PendingCancel(waiter)) ForgetWildcardWait(ring, waiter);
}

void Hypervisor::ForgetWildcardWait(RingInfo& ring, domid_t waiter) {
  if (!ring.is_wildcard()) return;
  Domain* w = FindDomain(waiter);
  if (w == nullptr) return;
  MutexLock wildcard_l2(&w->wildcard_l2_mu_);
  w->wildcard_waits.erase(&ring);
}

// ---- Teardown
// ----------------------------------------------------------------

void Hypervisor::RemoveRing(Domain& owner, RingInfo* ring,
                            std::vector<RingChange>* changes,
                            VirqBatch* woken) {
  {
    SpinLockGuard l3(&ring->l3_mu_);
    const RingCounters counters = ring->counters();
    owner.retired_in.messages_in += counters.messages_in;
    owner.retired_in.bytes_in += counters.bytes_in;
    owner.retired_in.eagain += counters.eagain;
    for (const PendingEnt& ent : ring->PendingTakeAll()) {
      ForgetWildcardWait(*ring, ent.domid);
      if (woken != nullptr && ent.domid != owner.domid) woken->Add(ent.domid);
    }
  }
  if (!ring->is_wildcard()) {
    Domain* partner = FindDomain(ring->id().partner_id);
    if (partner != nullptr) {
      MutexLock send_l2(&partner->send_l2_mu_);
      partner->send_info.erase(SendInfo{owner.domid, ring->id().aport});
    }
  }
  changes->push_back(RingChange{owner.domid, ring->id(), ring->len(), false});
  owner.rings.Erase(ring->id());
}

void Hypervisor::TearDownArgo(Domain& d, std::vector<RingChange>* changes,
                              VirqBatch* virqs) {
  // A crashed or destroyed child level is no level until it says so again
  // (its receive buffers go with its rings).
  d.level_cpus.store(0, std::memory_order_relaxed);
  RemoveAllRings(d, changes, virqs);
  RemovePartnerRings(d, changes, virqs);
  RemoveWildcardWaits(d);
}

void Hypervisor::RemoveAllRings(Domain& d, std::vector<RingChange>* changes,
                                VirqBatch* virqs) {
  WriteGuard rings_l2(&d.rings_l2_mu_);
  std::vector<RingInfo*> rings;
  d.rings.ForEach([&rings](RingInfo* ring) { rings.push_back(ring); });
  for (RingInfo* ring : rings) RemoveRing(d, ring, changes, virqs);
}

void Hypervisor::RemovePartnerRings(Domain& d, std::vector<RingChange>* changes,
                                    VirqBatch* virqs) {
  std::vector<SendInfo> records;
  {
    MutexLock send_l2(&d.send_l2_mu_);
    records.assign(d.send_info.begin(), d.send_info.end());
  }
  // send_L2 is released before any rings_L2 is taken (lock order).
  for (const SendInfo& record : records) {
    Domain* owner = FindDomain(record.owner);
    if (owner == nullptr) continue;
    WriteGuard rings_l2(&owner->rings_l2_mu_);
    RingInfo* ring = owner->rings.Find(RingId{record.aport, d.domid});
    if (ring == nullptr) continue;
    // Only d can send to (and wait on) this unicast ring: no waiter to wake
    // but d. The owner's ring is gone under it: tell the owner.
    RemoveRing(*owner, ring, changes, /*woken=*/nullptr);
    virqs->Add(owner->domid);
  }
}

void Hypervisor::RemoveWildcardWaits(Domain& d) {
  std::vector<RingInfo*> rings;
  {
    MutexLock wildcard_l2(&d.wildcard_l2_mu_);
    rings.assign(d.wildcard_waits.begin(), d.wildcard_waits.end());
    d.wildcard_waits.clear();
  }
  // Xen's wildcard_rings_pending_remove walked the wrong list member here;
  // this walks the dying domain's own wait list.
  for (RingInfo* ring : rings) {
    SpinLockGuard l3(&ring->l3_mu_);
    ring->PendingCancel(d.domid);
  }
}

}  // namespace argo
