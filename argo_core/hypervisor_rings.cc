// XEN_ARGO_OP_register_ring and XEN_ARGO_OP_unregister_ring (Xen's
// register_ring / unregister_ring), with their checks in Xen's order.
#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "argo_core/argo_limits.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/xen_errno.h"

namespace argo {
namespace {

// The tx_ptr a newly registered ring starts from: the guest's, if it is a
// valid slot offset, else the slot at or after rx (0 past the end), written
// back so the guest sees it. Xen's register_ring does the same.
uint32_t AdoptInitialTx(const RingMemory& memory, uint32_t len) {
  xen_argo_ring_t* header = memory.header();
  std::atomic_ref<uint32_t> guest_tx(header->tx_ptr);
  uint32_t tx = guest_tx.load(std::memory_order_acquire);
  if (tx < len && RoundupMessage(tx) == tx) return tx;
  uint64_t from_rx = RoundupMessage(std::atomic_ref<uint32_t>(header->rx_ptr)
                                        .load(std::memory_order_acquire));
  tx = from_rx >= len ? 0 : static_cast<uint32_t>(from_rx);
  guest_tx.store(tx, std::memory_order_release);
  return tx;
}

}  // namespace

int64_t Hypervisor::RegisterRing(Domain& currd, uint64_t reg_hnd,
                                 uint64_t gfn_hnd, uint32_t npage,
                                 uint32_t flags,
                                 std::vector<RingChange>* changes) {
  const GuestMemory& memory = *currd.memory;
  if (npage > kMaxRingPages) return -XEN_EINVAL;
  if (!memory.Contains(gfn_hnd, uint64_t{npage} * sizeof(xen_argo_gfn_t))) {
    return -XEN_EFAULT;
  }
  if ((flags & ~XEN_ARGO_REGISTER_FLAG_MASK) != 0) return -XEN_EINVAL;
  xen_argo_register_ring_t reg;
  if (!memory.CopyFrom(reg_hnd, &reg, sizeof(reg))) return -XEN_EFAULT;
  if (reg.len < kMinRingSize || reg.len > kMaxRingSize ||
      reg.len != RoundupMessage(reg.len) || NpagesRing(reg.len) != npage ||
      reg.pad != 0) {
    return -XEN_EINVAL;
  }

  Domain* partner = nullptr;
  if (reg.partner_id == XEN_ARGO_DOMID_ANY) {
    if (!options_.wildcard_rings_permitted) return -XEN_EPERM;
    if (int rc = XsmRegisterAnySource(currd.domid); rc != 0) return rc;
  } else {
    partner = FindDomain(reg.partner_id);
    if (partner == nullptr) return -XEN_ESRCH;
    if (int rc = XsmRegisterSingleSource(currd.domid, reg.partner_id);
        rc != 0) {
      return rc;
    }
  }
  if (!currd.argo_enabled) return -XEN_ENODEV;
  if (partner != nullptr && !partner->argo_enabled) return -XEN_ECONNREFUSED;

  // Read the frame list once and map it before rings_L2 is taken for write.
  // A bad frame is reported only after the EEXIST/ENOSPC checks, as in Xen.
  std::vector<uint64_t> gfns(npage);
  memory.CopyFrom(gfn_hnd, gfns.data(), gfns.size() * sizeof(uint64_t));
  int frames_error = 0;
  for (uint64_t gfn : gfns) {
    if (gfn >= memory.nframes()) frames_error = -XEN_EFAULT;
  }
  // Never refused for want of mappings (RingMemory falls back to pages).
  RingMemory ring_memory;
  if (frames_error == 0) {
    ring_memory =
        RingMemory::Map(memory, gfns, currd.mappings, level_mappings_);
  }
  // The old frames of a re-registered ring, dropped after the locks.
  RingMemory replaced;

  WriteGuard rings_l2(&currd.rings_l2_mu_);
  const RingId id{reg.aport, reg.partner_id};
  RingInfo* existing = currd.rings.Find(id);
  // Only a new ring counts against the limit (Xen counted re-registrations).
  if (existing == nullptr && currd.rings.size() >= kMaxRingsPerDomain) {
    return -XEN_ENOSPC;
  }
  if (existing != nullptr &&
      ((flags & XEN_ARGO_REGISTER_FLAG_FAIL_EXIST) != 0 ||
       existing->len() != reg.len)) {
    return -XEN_EEXIST;
  }
  // A failed re-registration leaves the existing ring as it was (Xen
  // removed it).
  if (frames_error != 0) return frames_error;

  if (existing != nullptr) {
    SpinLockGuard l3(&existing->l3_mu_);
    // Same ring, new frames: tx, waiters and the partner record stay (Xen
    // added a second partner record here).
    replaced = existing->ReplaceMemory(std::move(ring_memory));
    return 0;
  }

  const uint32_t tx = AdoptInitialTx(ring_memory, reg.len);
  currd.rings.Insert(std::make_unique<RingInfo>(currd.domid, id, reg.len,
                                                std::move(ring_memory), tx));
  if (partner != nullptr) {
    MutexLock send_l2(&partner->send_l2_mu_);
    partner->send_info.insert(SendInfo{currd.domid, reg.aport});
  }
  changes->push_back(RingChange{currd.domid, id, reg.len, true});
  return 0;
}

int64_t Hypervisor::UnregisterRing(Domain& currd, uint64_t unreg_hnd,
                                   uint64_t arg2, uint64_t arg3,
                                   uint64_t arg4,
                                   std::vector<RingChange>* changes) {
  if (arg2 != 0 || arg3 != 0 || arg4 != 0) return -XEN_EINVAL;
  xen_argo_unregister_ring_t unreg;
  if (!currd.memory->CopyFrom(unreg_hnd, &unreg, sizeof(unreg))) {
    return -XEN_EFAULT;
  }
  if (unreg.pad != 0) return -XEN_EINVAL;
  if (!currd.argo_enabled) return -XEN_ENODEV;

  WriteGuard rings_l2(&currd.rings_l2_mu_);
  RingInfo* ring = currd.rings.Find(RingId{unreg.aport, unreg.partner_id});
  if (ring == nullptr) return -XEN_ENOENT;
  // Waiters are dropped without a wake-up, as in Xen.
  RemoveRing(currd, ring, changes, /*woken=*/nullptr);
  return 0;
}

}  // namespace argo
