// XEN_ARGO_OP_sendv (Xen's do_argo_op sendv case, sendv and iov_count): the
// hot path. No allocation; L1 and rings_L2 are per-CPU reader locks, so
// senders to different rings share no written cache line but the ring's.
// Also ProbeSend, which asks sendv's questions without acting on them.
#include <algorithm>
#include <cstring>

#include "argo_core/argo_limits.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/xen_errno.h"

namespace argo {
int IovCount(const xen_argo_iov_t* iovs, uint32_t niov, uint32_t* total) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < niov; ++i) {
    if (iovs[i].pad != 0) return -XEN_EINVAL;
    if (iovs[i].iov_len > kMaxMessageSize) return -XEN_EINVAL;
    sum += iovs[i].iov_len;
    if (sum > kMaxMessageSize) return -XEN_EMSGSIZE;
  }
  *total = static_cast<uint32_t>(sum);
  return 0;
}

RingInfo* Hypervisor::FindRingByMatch(Domain& dst, xen_argo_port_t aport,
                                      domid_t sender) {
  RingInfo* ring = dst.rings.Find(RingId{aport, sender});
  return ring != nullptr ? ring
                         : dst.rings.Find(RingId{aport, XEN_ARGO_DOMID_ANY});
}

int64_t Hypervisor::Sendv(Domain& currd, uint64_t send_addr_hnd,
                          uint64_t iovs_hnd, uint32_t niov,
                          uint32_t message_type, VirqBatch& virqs) {
  // The one branch a send pays for the traffic tap while none is set.
  TrafficTap* tap = tap_.load(std::memory_order_acquire);
  if (__builtin_expect(tap == nullptr, 1)) {
    return SendvRoute<false>(currd, send_addr_hnd, iovs_hnd, niov,
                             message_type, virqs, nullptr);
  }
  return SendvTapped(tap, currd, send_addr_hnd, iovs_hnd, niov, message_type,
                     virqs);
}

__attribute__((noinline)) int64_t Hypervisor::SendvTapped(
    TrafficTap* tap, Domain& currd, uint64_t send_addr_hnd, uint64_t iovs_hnd,
    uint32_t niov, uint32_t message_type, VirqBatch& virqs) {
  SendTrace trace;
  const int64_t rc = SendvRoute<true>(currd, send_addr_hnd, iovs_hnd, niov,
                                      message_type, virqs, &trace);
  // A send whose arguments could not even be read is not a message.
  if (!trace.read) return rc;
  TapRecord record;
  record.source = {trace.send_addr.src.aport, currd.domid, 0};
  record.implicit = trace.send_addr.dst.domain_id == ARGO_DOMID_IMPLICIT;
  record.ring = trace.ring;
  record.ring_partner = trace.ring_partner;
  record.message_type = message_type;
  record.xen_errno = rc < 0 ? static_cast<uint16_t>(-rc) : 0;
  uint64_t total = 0;
  for (uint32_t i = 0; i < trace.niov; ++i) total += trace.iovs[i].iov_len;
  record.payload_len =
      static_cast<uint32_t>(std::min<uint64_t>(total, UINT32_MAX));
  // The payload as the ring code sees it; an iov outside the sender's
  // memory ends it (the send was refused for it anyway).
  MessagePart parts[XEN_ARGO_MAXIOV];
  uint32_t nparts = 0;
  (void)TranslateIovs(*currd.memory, trace.iovs, trace.niov, parts, &nparts);
  tap->OnMessage(record, absl::MakeConstSpan(parts, nparts));
  return rc;
}

template <bool kTraced>
int64_t Hypervisor::SendvRoute(Domain& currd, uint64_t send_addr_hnd,
                               uint64_t iovs_hnd, uint32_t niov,
                               uint32_t message_type, VirqBatch& virqs,
                               SendTrace* trace) {
  const GuestMemory& memory = *currd.memory;
  xen_argo_send_addr_t send_addr;
  if (!memory.CopyFrom(send_addr_hnd, &send_addr, sizeof(send_addr))) {
    return -XEN_EFAULT;
  }
  // message_type was checked to be 32-bit by the common checks.
  if (niov > XEN_ARGO_MAXIOV) return -XEN_EINVAL;
  xen_argo_iov_t iovs[XEN_ARGO_MAXIOV];
  const uint8_t* guest_iovs =
      memory.Translate(iovs_hnd, niov * sizeof(xen_argo_iov_t));
  if (guest_iovs == nullptr) return -XEN_EFAULT;
  // One fixed-size copy per iov (inlined moves), each read exactly once.
  for (uint32_t i = 0; i < niov; ++i) {
    std::memcpy(&iovs[i], guest_iovs + i * sizeof(xen_argo_iov_t),
                sizeof(xen_argo_iov_t));
  }
  if constexpr (kTraced) {
    trace->send_addr = send_addr;
    trace->ring = send_addr.dst;
    std::copy(iovs, iovs + niov, trace->iovs);
    trace->niov = niov;
    trace->read = true;
  }
  Domain* dst;
  xen_argo_addr_t dst_addr;
  SendCheck check;  // for ProbeSend's sake; folds away here
  if (int rc = DecideRoute<Decide::kAttempt>(currd, send_addr, &dst, &dst_addr,
                                             &check);
      rc != 0) {
    if (rc != kImplicitParent) return rc;
    if constexpr (kTraced) trace->ring = dst_addr;
    return SendvUp(currd, send_addr, iovs, niov, message_type,
                   dst_addr.aport);
  }
  if constexpr (kTraced) trace->ring = dst_addr;
  // Nesting (DESIGN §7): a child level's domain, or a path-carrying
  // message. One load beside argo_enabled's and one compare on the path.
  if (__builtin_expect(
          dst->level_cpus.load(std::memory_order_relaxed) != 0 ||
              message_type == ARGO_MSG_TYPE_PATH,
          0)) {
    if (dst->level_cpus.load(std::memory_order_relaxed) != 0) {
      return SendvToLevel(currd, send_addr, *dst, dst_addr.aport, iovs, niov,
                          message_type, virqs);
    }
    // A level's message for a guest here goes in as sent, by the path
    // below, once its block is known to be well formed.
    if (int err = CheckPathFromLevel(currd, iovs, niov); err != 0) return err;
  }

  int64_t rc;
  {
    ReadGuard rings_l2(&dst->rings_l2_mu_);
    RingInfo* ring = FindRingByMatch(*dst, dst_addr.aport, currd.domid);
    if (ring == nullptr) return -XEN_ECONNREFUSED;
    if constexpr (kTraced) trace->ring_partner = ring->id().partner_id;
    uint32_t total = 0;
    if (int err = IovCount(iovs, niov, &total); err != 0) return err;

    // The receiver sees the claimed port and the stamped sender domid.
    const xen_argo_addr_t source{send_addr.src.aport, currd.domid, 0};
    SpinLockGuard l3(&ring->l3_mu_);
    rc = ring->Insert(source, message_type, memory, iovs, niov, total);
    if (rc == -XEN_EAGAIN) {
      // Queue a wake-up for when the message fits; EBUSY if 32 wait already.
      if (int err = PendingRequeue(*ring, currd.domid, total); err != 0) {
        rc = err;
      }
    }
  }
  if (rc >= 0) virqs.Add(dst->domid);
  currd.sent.Count(rc, rc >= 0 ? static_cast<uint64_t>(rc) : 0);
  return rc;
}

SendProbe Hypervisor::ProbeSend(domid_t caller,
                                const xen_argo_send_addr_t& send_addr,
                                uint32_t payload) {
  SendProbe probe;
  ReadGuard l1(&l1_mu_);
  Domain* currd = FindDomain(caller);
  if (currd == nullptr) {
    probe.xen_errno = XEN_ESRCH;
    return probe;
  }
  probe.decided_by = SendCheck::kEnable;
  if (int rc = XsmQueryEnable(caller); rc != 0) {
    probe.xen_errno = -rc;
    return probe;
  }
  Domain* dst = nullptr;
  xen_argo_addr_t dst_addr{};
  int rc = DecideRoute<Decide::kQuery>(*currd, send_addr, &dst, &dst_addr,
                                       &probe.decided_by);
  if (rc == kImplicitParent) {
    probe.destination = dst_addr;  // PARENT:q; the parent decides the rest
    return probe;
  }
  if (dst != nullptr) probe.destination = dst_addr;
  if (rc != 0) {
    probe.xen_errno = -rc;
    return probe;
  }
  if (dst->level_cpus.load(std::memory_order_relaxed) != 0 &&
      dst_addr.aport < ARGO_LEVEL_RX_PORT_BASE) {
    // Into one of the child level's buffers, then its table: this level
    // can say no more.
    probe.decided_by = SendCheck::kChildLevel;
    return probe;
  }
  ReadGuard rings_l2(&dst->rings_l2_mu_);
  RingInfo* ring = FindRingByMatch(*dst, dst_addr.aport, currd->domid);
  if (ring == nullptr) {
    probe.xen_errno = XEN_ECONNREFUSED;
    return probe;
  }
  SpinLockGuard l3(&ring->l3_mu_);
  probe.ring = ring->Snapshot();
  // The payload as one iov, through sendv's own iov rule.
  xen_argo_iov_t iov = {};
  iov.iov_len = payload;
  uint32_t total = 0;
  if (rc = IovCount(&iov, 1, &total); rc != 0) {
    probe.decided_by = SendCheck::kFits;
    probe.xen_errno = -rc;
    return probe;
  }
  rc = ring->Admit(total);
  probe.decided_by = rc == -XEN_EMSGSIZE ? SendCheck::kFits
                     : rc == -XEN_EAGAIN ? SendCheck::kSpace
                                         : SendCheck::kDelivered;
  probe.xen_errno = -rc;
  return probe;
}

}  // namespace argo
