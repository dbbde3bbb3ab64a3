// The hypervisor side of Argo (Xen's xen/common/argo.c): domains, rings and
// the argo_op hypercall with Xen's ABI, errors, limits and teardown.
//
// LOCK ORDER (§3.4; the same reasoning as argo.c):
//
//   L1 (l1_mu_, global, per-CPU reader/writer)
//     -> rings_L2 (Domain::rings_l2_mu_, per domain, per-CPU reader/writer)
//       -> L3 (RingInfo::l3_mu_, per ring)
//         -> wildcard_L2 (Domain::wildcard_l2_mu_, per domain; a leaf)
//     -> send_L2 (Domain::send_l2_mu_, per domain; a leaf)
//
// - L1 is held for read by every hypercall for its whole duration, and for
//   write only by domain create/destroy. Holding it (either way) keeps every
//   Domain in domains_ alive.
// - rings_L2 of a domain: read to look up its rings (sendv, notify), write
//   to add or remove them (register, unregister, teardown).
// - L3 guards one ring's tx_ptr, window, waiters and counters.
// - wildcard_L2 guards a domain's record of its waits on other domains'
//   wildcard rings; taken under L3 only.
// - send_L2 guards a domain's record of rings others registered naming it;
//   taken under rings_L2 (write), never while taking a rings_L2.
// - VIRQs are raised after every lock is released (VirqBatch).
//
// A hostile domain cannot stall a victim: no lock is held across anything a
// guest controls (guest memory is read with bounded copies), a domain's
// rings_L2 is taken for write only by that domain's own register/unregister
// (stalling senders to itself alone) and by teardown.
//
// Deliberate differences from Xen (each pinned by a regression test in
// tests/argo_core/xen_defects_test.cc):
// - Re-registration does not count as a new ring (Xen inflates ring_count
//   until ENOSPC) and is allowed at the 128-ring limit.
// - Re-registration does not add a second partner record (Xen duplicates
//   the send_info and later frees one twice).
// - A failed re-registration leaves the existing ring intact (Xen removes it).
// - Teardown of a domain's waits on wildcard rings walks that domain's own
//   wait list (Xen walked the wrong list member).
// - sendv on a full ring returns -EAGAIN, never 0.
// - Every hypercall holds L1 for read throughout (Xen copies arguments
//   before taking it): a domain cannot be destroyed under its own hypercall.
// - Ring frames are mapped before rings_L2 is taken for write, so senders to
//   the domain never wait on mmap.
// - Teardown (destroy and reset) raises VIRQ_ARGO on every domain it
//   affected: owners of unicast rings removed because their partner went,
//   and senders whose pending-space wait was dropped. Xen raises none, so
//   such a sender sleeps forever; here it retries and learns ECONNREFUSED.
// - Kernel mappings of ring windows are bounded per domain and per level
//   (RingMemory); past a bound a ring is served page by page, never refused.
#ifndef ARGO_CORE_HYPERVISOR_H_
#define ARGO_CORE_HYPERVISOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "argo_core/access_control.h"
#include "absl/types/span.h"
#include "argo_core/argo_limits.h"
#include "argo_core/domain.h"
#include "argo_core/domain_directory.h"
#include "argo_core/implicit_resolver.h"
#include "argo_core/mapping_budget.h"
#include "argo_core/name_path.h"
#include "argo_core/percpu_rwlock.h"
#include "argo_core/public/argo.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/ring_info.h"
#include "argo_core/ring_observer.h"
#include "argo_core/send_probe.h"
#include "argo_core/traffic_tap.h"
#include "argo_core/uplink.h"
#include "argo_core/virq_notifier.h"

namespace argo {

struct HypervisorOptions {
  // Xen's opt_argo: when false every op returns -EOPNOTSUPP.
  bool argo_enabled = true;
  // Xen's opt_argo_mac_permissive: may domains register wildcard rings.
  bool wildcard_rings_permitted = true;
  // Told of every ring registered or removed (must outlive the hypervisor).
  RingObserver* ring_observer = nullptr;
  // Kernel mappings all ring windows of the level may hold (see
  // RingMemory). The default leaves most of Linux's default
  // vm.max_map_count (65530) to the rest of the process.
  uint64_t max_window_segments = 16384;
};

// A point-in-time view of a domain's Argo state.
struct DomainInfo {
  domid_t domid;
  uint64_t memory_frames;
  bool argo_enabled;
  uint32_t ring_count;
  // Rings other domains registered naming this domain as partner.
  uint32_t partner_records;
  // Other domains' wildcard rings this domain waits on.
  uint32_t wildcard_waits;
  // Kernel mappings its ring windows hold.
  uint64_t window_segments;
  // As a sender: sendv calls that delivered, their payload bytes, and
  // those refused with EAGAIN (ring full).
  uint64_t messages_sent;
  uint64_t bytes_sent;
  uint64_t eagain;
  // As a receiver, over its rings past and present.
  uint64_t messages_received;
  uint64_t bytes_received;
};

struct DomainConfig {
  uint64_t memory_frames = 256;  // 1 MiB
  bool argo_enabled = true;
};

// A message from this process's own buffers (Hypervisor::DeliverFromHost).
struct HostMessage {
  // Stamped as the receiver's source as given (e.g. ARGO_DOMID_PARENT:r
  // for a message that came down from the parent level).
  xen_argo_addr_t source;
  xen_argo_addr_t destination;  // a local domain's port
  uint32_t message_type;
  absl::Span<const MessagePart> parts;
  // Nonzero: the destination domain must be of this generation (a cable's
  // destination re-created since it was cabled is -ECONNREFUSED), checked
  // under the lock the delivery takes anyway.
  uint32_t destination_generation = 0;
  // Set by a level's forwarder that parsed the parts' leading path block
  // already: a delivery further down uses it instead of parsing again.
  const NamePath* path = nullptr;
};

class Hypervisor final : public DomainDirectory {
 public:
  // The hooks must outlive the hypervisor. A null access_control means
  // "permit all" (Xen without XSM); a null implicit resolver means no
  // implicit destinations (such sends get -ECONNREFUSED).
  Hypervisor(HypervisorOptions options, VirqNotifier* notifier,
             AccessControl* access_control = nullptr,
             ImplicitResolver* implicit = nullptr);
  ~Hypervisor();
  Hypervisor(const Hypervisor&) = delete;
  Hypervisor& operator=(const Hypervisor&) = delete;

  // Creates domain `domid` with zeroed memory. InvalidArgument for a
  // reserved domid or a bad size, AlreadyExists if it exists.
  absl::Status CreateDomain(domid_t domid, const DomainConfig& config)
      ABSL_LOCKS_EXCLUDED(l1_mu_);
  // Resets the domain's Argo state as if it had just been created (Xen's
  // argo_soft_reset; a guest that crashed, DESIGN §8): removes its rings
  // and their waiters, rings in other domains whose unicast partner it is,
  // and its waits on other domains' rings. Keeps the domain, its memory,
  // its generation (so its cables stay valid) and its label. VIRQs go to
  // every other domain affected (see the differences above).
  absl::Status ResetDomain(domid_t domid) ABSL_LOCKS_EXCLUDED(l1_mu_);
  // ResetDomain, then removes the domain (Xen's argo_destroy): its cables
  // and label go with it (the implicit resolver and access control are
  // told), its memory is unmapped once the last reference is dropped.
  absl::Status DestroyDomain(domid_t domid) ABSL_LOCKS_EXCLUDED(l1_mu_);

  // The domain's memory (kept alive by the caller's reference), or null.
  std::shared_ptr<GuestMemory> DomainMemory(domid_t domid)
      ABSL_LOCKS_EXCLUDED(l1_mu_);
  bool DomainExists(domid_t domid) ABSL_LOCKS_EXCLUDED(l1_mu_);
  absl::StatusOr<DomainInfo> GetDomainInfo(domid_t domid)
      ABSL_LOCKS_EXCLUDED(l1_mu_);
  // DomainDirectory: the generation of the live domain `domid` (NotFound
  // if none), and the hypercall grace period.
  absl::StatusOr<uint32_t> DomainGeneration(domid_t domid) override
      ABSL_LOCKS_EXCLUDED(l1_mu_);
  void WaitForHypercalls() override ABSL_LOCKS_EXCLUDED(l1_mu_);

  // What a sendv by `caller` with `send_addr` and `payload` bytes would
  // return now, decided by the code sendv runs (no audit, no waiter, no
  // copy). Raced by any concurrent change, like any snapshot.
  SendProbe ProbeSend(domid_t caller, const xen_argo_send_addr_t& send_addr,
                      uint32_t payload) ABSL_LOCKS_EXCLUDED(l1_mu_);

  // Places a message whose bytes are in this process (a nesting level's
  // forwarder) in the destination's ring with the ring code sendv uses:
  // the same ring choice (unicast for the source domid, then wildcard),
  // size and space checks, whole-or-absent insertion, counters and VIRQ.
  // No access-control hook runs (the level itself is the sender) and no
  // waiter is queued on EAGAIN (the caller retries). Returns the payload
  // length or -ESRCH, -ECONNREFUSED, -EINVAL, -EMSGSIZE, -EAGAIN.
  int64_t DeliverFromHost(const HostMessage& message)
      ABSL_LOCKS_EXCLUDED(l1_mu_);

  // Nesting (DESIGN §7; docs/nesting.md). Where sends cabled to
  // parent:q go (null: they get -ENOSYS, a level without a parent). Set
  // before guests send, or while they do: a send uses the uplink it
  // loaded. Must outlive the hypervisor.
  void SetUplink(Uplink* uplink) {
    uplink_.store(uplink, std::memory_order_release);
  }
  // Marks `domid` as a child level with `cpus` receive buffers (0 unmarks;
  // a reset of the domain unmarks it too). InvalidArgument over
  // ARGO_LEVEL_MAX_CPUS, NotFound for no such domain.
  absl::Status SetChildLevel(domid_t domid, uint32_t cpus)
      ABSL_LOCKS_EXCLUDED(l1_mu_);
  uint32_t ChildLevelCpus(domid_t domid) ABSL_LOCKS_EXCLUDED(l1_mu_);
  struct NestingStats {
    uint64_t up_forwarded = 0;  // sends the parent took
    uint64_t up_refused = 0;    // sends the parent refused (errno to sender)
    uint64_t down_wrapped = 0;  // messages placed in a child's buffers
    uint64_t loops = 0;         // refused or dropped: path over the depth
  };
  NestingStats nesting_stats() const;
  // Which of `cpus` receive buffers a message of this flow goes to: one
  // flow (source, destination port, origin) always to the same one.
  static uint32_t FlowBuffer(const xen_argo_addr_t& source,
                             xen_argo_port_t dst_port,
                             const xen_argo_addr_t& origin, uint32_t cpus);

  // Reports every message from now on to `tap` (null: to none). The tap
  // must outlive the hypervisor: a send that loaded it may still be
  // reporting after it is replaced.
  void SetTrafficTap(TrafficTap* tap) {
    tap_.store(tap, std::memory_order_release);
  }

  // Kernel mappings held by every ring window of the level.
  uint64_t window_segments() const { return level_mappings_.used(); }

  // The ring a send from `sender` to (dst, aport) would use, if any.
  absl::optional<RingSnapshot> LookupRing(domid_t dst, xen_argo_port_t aport,
                                          domid_t sender)
      ABSL_LOCKS_EXCLUDED(l1_mu_);

  // The hypercall: argo_op(cmd, arg1, arg2, arg3, arg4) issued by `caller`.
  // arg1/arg2 are guest handles (guest-physical addresses in the caller's
  // memory; 0 is NULL). Returns 0, a byte count, or a negative Xen errno.
  // A caller that is not an existing domain gets -ESRCH.
  int64_t ArgoOp(domid_t caller, unsigned int cmd, uint64_t arg1, uint64_t arg2,
                 uint64_t arg3, uint64_t arg4) ABSL_LOCKS_EXCLUDED(l1_mu_);

  // Every ring of every domain (owner-then-port order is not promised).
  std::vector<RingSnapshot> ListRings() ABSL_LOCKS_EXCLUDED(l1_mu_);
  std::vector<domid_t> ListDomains() ABSL_LOCKS_EXCLUDED(l1_mu_);

 private:
  // VIRQs collected under the locks and raised after they are released,
  // each domain once. sendv raises at most one: that case stays in a scalar.
  class VirqBatch {
   public:
    void Add(domid_t domid) {
      if (count_++ == 0) {
        first_ = domid;
      } else {
        more_.push_back(domid);
      }
    }
    void AddAll(const DomidList& domids) {
      for (domid_t d : domids) Add(d);
    }
    void Deliver(VirqNotifier& notifier) {
      if (count_ == 1) {
        notifier.RaiseVirq(first_);
      } else if (count_ > 1) {
        DeliverMany(notifier);
      }
    }

   private:
    void DeliverMany(VirqNotifier& notifier);

    uint32_t count_ = 0;
    domid_t first_ = 0;
    std::vector<domid_t> more_;
  };

  Domain* FindDomain(domid_t domid) const ABSL_SHARED_LOCKS_REQUIRED(l1_mu_) {
    return IsNormalDomid(domid) ? domains_[domid].get() : nullptr;
  }

  // The XSM hooks; without a policy (Xen without XSM) they permit all
  // without an indirect call.
  int XsmEnable(domid_t d) { return xsm_ ? xsm_->Enable(d) : 0; }
  // ENABLE on every op, with the domain's last permit cached until the
  // policy's decisions change (a denial is asked, and audited, each time).
  int CachedXsmEnable(Domain& d) {
    if (xsm_ == nullptr) return 0;
    const uint64_t epoch = xsm_->decision_epoch();
    if (d.sent.enable_permit_epoch.load(std::memory_order_relaxed) == epoch) {
      return 0;
    }
    const int rc = xsm_->Enable(d.domid);
    if (rc == 0) {
      d.sent.enable_permit_epoch.store(epoch, std::memory_order_relaxed);
    }
    return rc;
  }
  int XsmRegisterSingleSource(domid_t d, domid_t partner) {
    return xsm_ ? xsm_->RegisterSingleSource(d, partner) : 0;
  }
  int XsmRegisterAnySource(domid_t d) {
    return xsm_ ? xsm_->RegisterAnySource(d) : 0;
  }
  int XsmSend(domid_t src, domid_t dst, bool implicit) {
    return xsm_ ? xsm_->Send(src, dst, implicit) : 0;
  }
  // The same questions, not audited (ProbeSend).
  int XsmQueryEnable(domid_t d) { return xsm_ ? xsm_->QueryEnable(d) : 0; }
  int XsmQuerySend(domid_t src, domid_t dst, bool implicit) {
    return xsm_ ? xsm_->QuerySend(src, dst, implicit) : 0;
  }

  // The one send decision (sendv's checks up to the ring lookup), made for
  // sendv (kAttempt: audited) and for ProbeSend (not audited). Returns 0
  // with *dst and *dst_addr set, or a negative errno with *check naming
  // the check that refused, or kImplicitParent (cabled up: *dst null,
  // *dst_addr = PARENT:q). Inline: on the send path, where the stores to
  // `check` fold away.
  enum class Decide { kAttempt, kQuery };
  template <Decide kMode>
  ABSL_ATTRIBUTE_ALWAYS_INLINE int DecideRoute(
      const Domain& currd, const xen_argo_send_addr_t& send_addr,
      Domain** dst, xen_argo_addr_t* dst_addr, SendCheck* check)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_) {
    *check = SendCheck::kSource;
    if (send_addr.src.pad != 0 || send_addr.dst.pad != 0) return -XEN_EINVAL;
    // No domain may send on behalf of another; ANY means "me".
    if (send_addr.src.domain_id != XEN_ARGO_DOMID_ANY &&
        send_addr.src.domain_id != currd.domid) {
      return -XEN_EPERM;
    }
    // The implicit-destination step (DESIGN §4): the sentinel with aport 0
    // means "the destination my source port is cabled to".
    const bool implicit = send_addr.dst.domain_id == ARGO_DOMID_IMPLICIT;
    *dst_addr = send_addr.dst;
    if (implicit) {
      *check = SendCheck::kImplicit;
      if (send_addr.dst.aport != 0) return -XEN_EINVAL;
      if (int rc = ResolveImplicit(currd, send_addr.src.aport, dst, dst_addr);
          rc != 0) {
        if (rc != kImplicitParent) return rc;
        // Up to the parent: its policy and rings decide the rest.
        *check = SendCheck::kSenderArgo;
        if (!currd.argo_enabled) return -XEN_ENODEV;
        *check = SendCheck::kUplink;
        return kImplicitParent;
      }
    } else {
      *check = SendCheck::kDestination;
      *dst = FindDomain(send_addr.dst.domain_id);
      if (*dst == nullptr) return -XEN_ESRCH;
    }
    *check = SendCheck::kPolicy;
    const int xsm = kMode == Decide::kAttempt
                        ? XsmSend(currd.domid, (*dst)->domid, implicit)
                        : XsmQuerySend(currd.domid, (*dst)->domid, implicit);
    if (xsm != 0) return xsm;
    *check = SendCheck::kSenderArgo;
    if (!currd.argo_enabled) return -XEN_ENODEV;
    *check = SendCheck::kDestinationArgo;
    if (!(*dst)->argo_enabled) return -XEN_ECONNREFUSED;
    *check = SendCheck::kRing;
    return 0;
  }

  // Resolves an implicit destination for `currd`'s port `src_port` into
  // *dst (the live destination domain) and *dst_addr. Returns 0, the errno
  // of §4 (ECONNREFUSED, ENOSYS without an uplink), or kImplicitParent
  // (*dst_addr = PARENT:q, *dst null).
  // Inline: it is on the implicit send path.
  ABSL_ATTRIBUTE_ALWAYS_INLINE int ResolveImplicit(
      const Domain& currd, xen_argo_port_t src_port, Domain** dst,
      xen_argo_addr_t* dst_addr) ABSL_SHARED_LOCKS_REQUIRED(l1_mu_) {
    if (implicit_ == nullptr) return -XEN_ECONNREFUSED;
    const ImplicitDestination target =
        implicit_->Resolve(currd.domid, currd.generation, src_port);
    if (target.rc != 0) {
      if (target.rc != kImplicitParent) return target.rc;
      // A level without a parent has nowhere to send it.
      if (uplink_.load(std::memory_order_relaxed) == nullptr) {
        return -XEN_ENOSYS;
      }
      *dst = nullptr;
      dst_addr->aport = target.port;
      dst_addr->domain_id = ARGO_DOMID_PARENT;
      return kImplicitParent;
    }
    // The cable names a domain generation: one destroyed (or re-created
    // with the same domid) since is not its destination.
    Domain* d = FindDomain(target.domid);
    if (d == nullptr || d->generation != target.domain_generation) {
      return -XEN_ECONNREFUSED;
    }
    *dst = d;
    dst_addr->aport = target.port;
    dst_addr->domain_id = target.domid;
    return 0;
  }

  // The ops. Each REQUIRES L1 held for read and returns the hypercall value.
  // Register and unregister append what they changed to *changes.
  int64_t RegisterRing(Domain& currd, uint64_t reg_hnd, uint64_t gfn_hnd,
                       uint32_t npage, uint32_t flags,
                       std::vector<RingChange>* changes)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  int64_t UnregisterRing(Domain& currd, uint64_t unreg_hnd, uint64_t arg2,
                         uint64_t arg3, uint64_t arg4,
                         std::vector<RingChange>* changes)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  int64_t Sendv(Domain& currd, uint64_t send_addr_hnd, uint64_t iovs_hnd,
                uint32_t niov, uint32_t message_type, VirqBatch& virqs)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  // Nesting (hypervisor_nesting.cc). A message as it leaves this level:
  // the path block (with `hop` pushed) and the payload after any block it
  // came with.
  struct NestedMessage {
    NamePath path;
    uint8_t block[ARGO_PATH_MAX_BYTES];
    MessagePart parts[XEN_ARGO_MAXIOV + 1];
    uint32_t nparts = 0;
    uint32_t total = 0;  // block + payload
  };
  // `from_level`: the message may carry a block already (a level's own
  // forwarding, or the host). Returns 0, -EINVAL (a PATH message from a
  // guest, or a malformed block), -ELOOP (path full) or -EMSGSIZE.
  int BuildNested(bool from_level, const xen_argo_addr_t& hop,
                  uint32_t message_type, const MessagePart* payload,
                  uint32_t npayload, xen_argo_port_t dst_port,
                  NestedMessage* out, const NamePath* parsed = nullptr);
  // sendv cabled up (rc kImplicitParent), and sendv to a child level's
  // domain. Return as sendv.
  int64_t SendvUp(Domain& currd, const xen_argo_send_addr_t& send_addr,
                  const xen_argo_iov_t* iovs, uint32_t niov,
                  uint32_t message_type, xen_argo_port_t parent_port)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  int64_t SendvToLevel(Domain& currd, const xen_argo_send_addr_t& send_addr,
                       Domain& dst, xen_argo_port_t dst_port,
                       const xen_argo_iov_t* iovs, uint32_t niov,
                       uint32_t message_type, VirqBatch& virqs)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  // A sendv of ARGO_MSG_TYPE_PATH to a guest: 0 if `currd` is a level and
  // the payload starts with a well-formed block (it then goes in as sent),
  // else -EINVAL (or the payload's EFAULT/EMSGSIZE).
  int CheckPathFromLevel(const Domain& currd, const xen_argo_iov_t* iovs,
                         uint32_t niov) ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  // Places a built message in the buffer of child level `dst` its flow
  // maps to, stamped with `source`. On EAGAIN queues a space wake-up for
  // `waiter` (XEN_ARGO_DOMID_ANY: none, the host retries). Returns the
  // insertion's result or -ECONNREFUSED (the child has no such buffer).
  int64_t InsertInLevel(Domain& dst, const xen_argo_addr_t& source,
                        const NestedMessage& m, domid_t waiter)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);

  // What a traced send learned, for the tap.
  struct SendTrace {
    xen_argo_send_addr_t send_addr{};
    xen_argo_addr_t ring{};
    domid_t ring_partner = XEN_ARGO_DOMID_ANY;
    xen_argo_iov_t iovs[XEN_ARGO_MAXIOV];  // [0, niov) set when read
    uint32_t niov = 0;
    bool read = false;  // the arguments were read: a message to report
  };
  // sendv itself; kTraced fills *trace as far as the send got.
  template <bool kTraced>
  int64_t SendvRoute(Domain& currd, uint64_t send_addr_hnd, uint64_t iovs_hnd,
                     uint32_t niov, uint32_t message_type, VirqBatch& virqs,
                     SendTrace* trace) ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  // sendv with a tap installed: SendvRoute<true>, then the report.
  int64_t SendvTapped(TrafficTap* tap, Domain& currd, uint64_t send_addr_hnd,
                      uint64_t iovs_hnd, uint32_t niov, uint32_t message_type,
                      VirqBatch& virqs) ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  int64_t Notify(Domain& currd, uint64_t ring_data_hnd, uint64_t arg2,
                 uint64_t arg3, uint64_t arg4, VirqBatch& virqs)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);

  // Xen's fill_ring_data for the entry at `ent_hnd`.
  int FillRingData(Domain& currd, uint64_t ent_hnd)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);
  // Xen's notify_check_pending: wakes waiters on currd's rings that now fit.
  void NotifyCheckPending(Domain& currd, VirqBatch& virqs)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_);

  // Xen's find_ring_info_by_match: the unicast ring (aport, sender) first,
  // then the wildcard ring (aport, ANY).
  static RingInfo* FindRingByMatch(Domain& dst, xen_argo_port_t aport,
                                   domid_t sender)
      ABSL_SHARED_LOCKS_REQUIRED(dst.rings_l2_mu_);

  // Waiter bookkeeping on `ring` for `waiter`, keeping the waiter's wildcard
  // wait list in step. Return as RingInfo's counterparts.
  int PendingRequeue(RingInfo& ring, domid_t waiter, uint32_t len)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(ring.l3_mu_);
  void PendingCancel(RingInfo& ring, domid_t waiter)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(ring.l3_mu_);
  void ForgetWildcardWait(RingInfo& ring, domid_t waiter)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(ring.l3_mu_);

  // Xen's ring_remove_info plus the partner's send record: drops the ring
  // and its waiters, keeps its counters in the owner's totals, records the
  // change and frees it. Dropped waiters are woken through `woken` when it
  // is non-null (teardown), silently otherwise (unregister, as in Xen).
  void RemoveRing(Domain& owner, RingInfo* ring,
                  std::vector<RingChange>* changes, VirqBatch* woken)
      ABSL_SHARED_LOCKS_REQUIRED(l1_mu_)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner.rings_l2_mu_);

  // ResetDomain (remove = false) and DestroyDomain (remove = true).
  absl::Status TearDown(domid_t domid, bool remove)
      ABSL_LOCKS_EXCLUDED(l1_mu_);
  // Xen's argo_soft_reset of `d` (the steps of argo_destroy that keep the
  // domain), in Xen's order. REQUIRES L1 for write.
  void TearDownArgo(Domain& d, std::vector<RingChange>* changes,
                    VirqBatch* virqs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l1_mu_);
  void RemoveAllRings(Domain& d, std::vector<RingChange>* changes,
                      VirqBatch* virqs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l1_mu_);
  void RemovePartnerRings(Domain& d, std::vector<RingChange>* changes,
                          VirqBatch* virqs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(l1_mu_);
  void RemoveWildcardWaits(Domain& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l1_mu_);

  // DeliverFromHost itself; *partner is the ring's partner if one was found.
  int64_t DeliverFromHostRoute(const HostMessage& message, domid_t* partner)
      ABSL_LOCKS_EXCLUDED(l1_mu_);
  // Tells the observer, if any, of `changes` (no lock held).
  void ReportRingChanges(const std::vector<RingChange>& changes) {
    if (options_.ring_observer != nullptr && !changes.empty()) {
      options_.ring_observer->OnRingChanges(changes);
    }
  }

  const HypervisorOptions options_;
  VirqNotifier* const notifier_;
  std::atomic<TrafficTap*> tap_{nullptr};
  std::atomic<Uplink*> uplink_{nullptr};
  struct alignas(64) NestingCounters {
    std::atomic<uint64_t> up_forwarded{0};
    std::atomic<uint64_t> up_refused{0};
    std::atomic<uint64_t> down_wrapped{0};
    std::atomic<uint64_t> loops{0};
  };
  NestingCounters nesting_;
  AccessControl* const xsm_;          // null: permit all
  ImplicitResolver* const implicit_;  // null: no implicit destinations

  // Mappings of every ring window of the level (each domain has its own
  // budget too, in Domain).
  MappingBudget level_mappings_;

  PerCpuRwLock l1_mu_;
  // Indexed by domid; only normal domids (< DOMID_FIRST_RESERVED).
  std::vector<std::unique_ptr<Domain>> domains_ ABSL_GUARDED_BY(l1_mu_);
  // The live domids, ascending: listing walks these, not 32752 slots.
  std::vector<domid_t> live_domids_ ABSL_GUARDED_BY(l1_mu_);
  uint32_t next_generation_ ABSL_GUARDED_BY(l1_mu_) = 1;
};

}  // namespace argo

#endif  // ARGO_CORE_HYPERVISOR_H_
