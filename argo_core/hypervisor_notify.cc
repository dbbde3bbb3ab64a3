// XEN_ARGO_OP_notify (Xen's notify, notify_check_pending, fill_ring_data).
#include <cstddef>

#include "argo_core/argo_limits.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/xen_errno.h"

namespace argo {

int64_t Hypervisor::Notify(Domain& currd, uint64_t ring_data_hnd, uint64_t arg2,
                           uint64_t arg3, uint64_t arg4, VirqBatch& virqs) {
  if (arg2 != 0 || arg3 != 0 || arg4 != 0) return -XEN_EINVAL;
  if (!currd.argo_enabled) return -XEN_ENODEV;

  // Always first: the caller may have consumed data, so senders waiting on
  // its rings may now fit.
  NotifyCheckPending(currd, virqs);
  if (ring_data_hnd == 0) return 0;

  xen_argo_ring_data_t ring_data;
  if (!currd.memory->CopyFrom(ring_data_hnd, &ring_data, sizeof(ring_data))) {
    return -XEN_EFAULT;
  }
  if (ring_data.nent > kMaxNotifyCount) return -XEN_EACCES;
  const uint64_t ents_hnd =
      ring_data_hnd + offsetof(xen_argo_ring_data_t, data);
  if (!currd.memory->Contains(ents_hnd, uint64_t{ring_data.nent} *
                                            sizeof(xen_argo_ring_data_ent_t))) {
    return -XEN_EFAULT;
  }
  for (uint32_t i = 0; i < ring_data.nent; ++i) {
    int rc =
        FillRingData(currd, ents_hnd + i * sizeof(xen_argo_ring_data_ent_t));
    if (rc != 0) return rc;
  }
  return 0;
}

void Hypervisor::NotifyCheckPending(Domain& currd, VirqBatch& virqs) {
  ReadGuard rings_l2(&currd.rings_l2_mu_);
  currd.rings.ForEach([&](RingInfo* ring) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    // (The analysis cannot see that L1 is held inside the lambda.)
    DomidList woken;
    SpinLockGuard l3(&ring->l3_mu_);
    uint32_t space = ring->PayloadSpace();
    if (space == 0) return;
    ring->PendingTakeSatisfied(space, &woken);
    for (domid_t waiter : woken) ForgetWildcardWait(*ring, waiter);
    virqs.AddAll(woken);
  });
}

int Hypervisor::FillRingData(Domain& currd, uint64_t ent_hnd) {
  const GuestMemory& memory = *currd.memory;
  xen_argo_ring_data_ent_t ent;
  if (!memory.CopyFrom(ent_hnd, &ent, sizeof(ent))) return -XEN_EFAULT;
  ent.flags = 0;

  // With the implicit sentinel, ring.aport names the caller's *source*
  // port: "the ring my port is cabled to". The entry's ring field is not
  // rewritten, so the guest never learns where that is.
  const bool implicit = ent.ring.domain_id == ARGO_DOMID_IMPLICIT;
  Domain* dst = nullptr;
  xen_argo_addr_t dst_addr = ent.ring;
  if (implicit) {
    const int rc = ResolveImplicit(currd, ent.ring.aport, &dst, &dst_addr);
    if (rc == kImplicitParent) {
      // Cabled up: the ring is the parent's business. It exists as far as
      // this level can tell; a send that met it full was refused with
      // EAGAIN and the uplink raises the sender's VIRQ when the parent
      // signals room (DESIGN §7). Saying EXISTS lets a waiting guest sleep
      // for that VIRQ instead of retrying in a loop.
      ent.flags |= XEN_ARGO_RING_EXISTS;
      dst = nullptr;
    } else if (rc != 0) {
      dst =
          nullptr;  // not cabled (or not here): flags 0, like a missing domain
    }
  } else {
    dst = FindDomain(ent.ring.domain_id);
  }
  if (dst != nullptr && dst->argo_enabled) {
    // No information about rings the caller may not send to.
    if (int rc = XsmSend(currd.domid, dst->domid, implicit); rc != 0) {
      return rc;
    }
    ReadGuard rings_l2(&dst->rings_l2_mu_);
    RingInfo* ring = FindRingByMatch(*dst, dst_addr.aport, currd.domid);
    if (ring != nullptr) {
      SpinLockGuard l3(&ring->l3_mu_);
      ent.flags |= XEN_ARGO_RING_EXISTS;
      if (ring->is_wildcard()) ent.flags |= XEN_ARGO_RING_SHARED;
      ent.max_message_size = MaxPayloadForRing(ring->len());
      const uint32_t space = ring->PayloadSpace();
      if (ent.space_required > ent.max_message_size) {
        // Never achievable: no wait is queued.
        ent.flags |= XEN_ARGO_RING_EMSGSIZE;
      } else if (space >= ent.space_required) {
        PendingCancel(*ring, currd.domid);
        ent.flags |= XEN_ARGO_RING_SUFFICIENT;
      } else if (PendingRequeue(*ring, currd.domid, ent.space_required) ==
                 -XEN_EBUSY) {
        ent.flags |= XEN_ARGO_RING_EBUSY;
      }
      if (space == ent.max_message_size) ent.flags |= XEN_ARGO_RING_EMPTY;
    }
  }
  // Only the out fields are written back.
  if (!memory.CopyTo(ent_hnd + offsetof(xen_argo_ring_data_ent_t, flags),
                     &ent.flags, sizeof(ent.flags)) ||
      !memory.CopyTo(
          ent_hnd + offsetof(xen_argo_ring_data_ent_t, max_message_size),
          &ent.max_message_size, sizeof(ent.max_message_size))) {
    return -XEN_EFAULT;
  }
  return 0;
}

}  // namespace argo
