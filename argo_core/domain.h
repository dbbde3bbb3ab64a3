// A domain as the Argo core sees it (Xen's struct domain + struct
// argo_domain): its memory and its Argo state.
//
// Locking (see hypervisor.h for the order): the Domain object itself lives
// while L1 is held; rings_l2_mu_ guards the ring table; send_l2_mu_ guards
// the records of rings other domains registered naming this domain as
// partner; wildcard_l2_mu_ guards this domain's waits on others' wildcard
// rings.
#ifndef ARGO_CORE_DOMAIN_H_
#define ARGO_CORE_DOMAIN_H_

#include <cstdint>
#include <atomic>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "argo_core/guest_memory.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/mapping_budget.h"
#include "argo_core/mutex.h"
#include "argo_core/percpu_rwlock.h"
#include "argo_core/public/argo.h"
#include "argo_core/ring_info.h"
#include "argo_core/ring_table.h"

namespace argo {

// Identifies a ring registered by another domain (`owner`) whose partner is
// this domain (Xen's argo_send_info).
struct SendInfo {
  domid_t owner;
  xen_argo_port_t aport;

  friend bool operator==(const SendInfo& a, const SendInfo& b) {
    return a.owner == b.owner && a.aport == b.aport;
  }
  template <typename H>
  friend H AbslHashValue(H h, const SendInfo& s) {
    return H::combine(std::move(h), s.owner, s.aport);
  }
};

// The mappings one domain's ring windows may hold (a run of consecutive
// frames costs one; frames consecutive in guest memory cost none). Past it
// the domain's further scattered rings are served page by page.
inline constexpr uint64_t kMaxWindowSegmentsPerDomain = 1024;

struct Domain {
  Domain(domid_t id, uint32_t gen, std::shared_ptr<GuestMemory> mem, bool argo)
      : domid(id),
        generation(gen),
        memory(std::move(mem)),
        argo_enabled(argo) {}
  Domain(const Domain&) = delete;
  Domain& operator=(const Domain&) = delete;

  const domid_t domid;
  // Distinguishes this domain from earlier ones with the same domid.
  const uint32_t generation;
  const std::shared_ptr<GuestMemory> memory;
  // Xen: d->argo != NULL. Fixed at creation.
  const bool argo_enabled;
  // Nonzero: this domain is a child level (DESIGN §7) with that many
  // receive buffers (rings on ARGO_LEVEL_RX_PORT_BASE + cpu); sends to it
  // are wrapped with a path and spread over them, and it may send
  // ARGO_MSG_TYPE_PATH. Set by the toolstack (Hypervisor::SetChildLevel),
  // cleared by a reset. Read beside argo_enabled on every send.
  std::atomic<uint8_t> level_cpus{0};

  // Kernel mappings held by this domain's ring windows (lock-free: taken
  // before rings_L2, given back when a ring's memory is dropped).
  // Declared before the ring table: rings give back into it.
  MappingBudget mappings{kMaxWindowSegmentsPerDomain};

  PerCpuRwLock rings_l2_mu_;
  RingTable rings ABSL_GUARDED_BY(rings_l2_mu_);

  // What this domain's rings received before they were removed (so the
  // domain's totals survive unregistration).
  RingCounters retired_in ABSL_GUARDED_BY(rings_l2_mu_);

  // Sender-side counters, bumped by this domain's own sendv calls only:
  // their own cache line, so senders in other domains never touch it.
  struct alignas(64) SendCounters {
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> eagain{0};
    // The access control's decision_epoch() when ENABLE last permitted
    // this domain (0: not known). On this line because only the domain's
    // own hypercalls read and write it.
    std::atomic<uint64_t> enable_permit_epoch{0};

    // A send's result: a delivery of `bytes` payload bytes (rc >= 0), an
    // EAGAIN, or another refusal (not counted).
    void Count(int64_t rc, uint64_t bytes) {
      if (rc >= 0) {
        messages.fetch_add(1, std::memory_order_relaxed);
        this->bytes.fetch_add(bytes, std::memory_order_relaxed);
      } else if (rc == -XEN_EAGAIN) {
        eagain.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  SendCounters sent;

  Mutex send_l2_mu_;
  absl::flat_hash_set<SendInfo> send_info ABSL_GUARDED_BY(send_l2_mu_);

  Mutex wildcard_l2_mu_;
  absl::flat_hash_set<RingInfo*> wildcard_waits
      ABSL_GUARDED_BY(wildcard_l2_mu_);
};

}  // namespace argo

#endif  // ARGO_CORE_DOMAIN_H_
