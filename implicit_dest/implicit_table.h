// The implicit-destination table of DESIGN §4: (source domid, source port)
// -> (destination domid, destination port), where the destination may be
// ARGO_DOMID_PARENT ("up to the next hypervisor"). The toolstack
// "patch-cables" ports with Connect/Disconnect; the hypervisor resolves
// implicit sends through Resolve.
//
// Thread safety: Resolve may run concurrently with anything; the toolstack
// operations serialise on writer_mu_.
//
// Layout and concurrency: for each source domid, an inline slot holding a
// seqlock, the domain's generation and a pointer to an open-addressing
// array of its ports (the array's slots inline in one allocation). Resolve
// (on every implicit send) reads only the sending domain's slot and array:
// no lock, no allocation, no shared cache line written; it retries only if
// the toolstack rewrote that same domain's entries during the probe.
// Writers never wait for readers: a growing array is built aside and
// published by swapping one pointer; retired arrays stay allocated until
// the domain's entries are dropped (together smaller than the live array),
// so a reader never sees freed memory. Arrays of a domain that died are
// freed after a hypercall grace period.
#ifndef IMPLICIT_DEST_IMPLICIT_TABLE_H_
#define IMPLICIT_DEST_IMPLICIT_TABLE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "argo_core/domain_directory.h"
#include "argo_core/implicit_resolver.h"
#include "argo_core/mutex.h"
#include "argo_core/public/argo.h"

namespace argo::implicit_dest {

// One end of a cable: a domain's port, or (as a destination, or as the
// source of a downward entry) ARGO_DOMID_PARENT and a port.
struct Endpoint {
  domid_t domid;
  xen_argo_port_t port;

  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.domid == b.domid && a.port == b.port;
  }
};

// "dom3:7", "parent:9".
std::string EndpointName(const Endpoint& e);

// One table entry: sends from `from` go to `to`.
struct Cable {
  Endpoint from;
  Endpoint to;
};

// What the table needs to know about domains: their generations and the
// hypercall grace period (the hypervisor, in use).
using DomainDirectory = ::argo::DomainDirectory;

class ImplicitTable final : public ImplicitResolver {
 public:
  static constexpr uint32_t kMaxEntriesPerDomain = 1u << 20;
  static constexpr uint32_t kMaxEntries = 1u << 21;

  ImplicitTable();
  ~ImplicitTable() override;
  ImplicitTable(const ImplicitTable&) = delete;
  ImplicitTable& operator=(const ImplicitTable&) = delete;

  // Must be called once before any other call (the hypervisor is built
  // with this table as its resolver, so it cannot be passed at
  // construction).
  void Bind(DomainDirectory* domains);

  // Installs from -> to, and to -> from if `bidirectional` (a cable).
  // Checks everything first; on error nothing changes:
  //   InvalidArgument: a reserved domid, from == to, parent to parent, a
  //                    parent end of a one-way cable's source;
  //   NotFound: a domain that does not exist;
  //   AlreadyExists: an end that is already cabled;
  //   ResourceExhausted: the per-domain or total entry limit.
  absl::Status Connect(Endpoint from, Endpoint to, bool bidirectional)
      ABSL_LOCKS_EXCLUDED(writer_mu_);

  // Removes the entry from `from` (NotFound if none) and, if
  // `bidirectional`, the entry back to `from` from its destination, if it
  // points back. Returns the removed entries.
  absl::StatusOr<std::vector<Cable>> Disconnect(Endpoint from,
                                                bool bidirectional)
      ABSL_LOCKS_EXCLUDED(writer_mu_);

  // Every entry, or those with `domain` at either end, ordered by source.
  std::vector<Cable> List(absl::optional<domid_t> domain = absl::nullopt)
      ABSL_LOCKS_EXCLUDED(writer_mu_);

  // The entry from `from`, as the toolstack sees it (no generation check).
  absl::optional<Endpoint> Lookup(Endpoint from)
      ABSL_LOCKS_EXCLUDED(writer_mu_);

  uint32_t size() ABSL_LOCKS_EXCLUDED(writer_mu_);

  // ImplicitResolver.
  ImplicitDestination Resolve(domid_t src, uint32_t src_generation,
                              xen_argo_port_t src_port) override;
  void OnDomainDestroyed(domid_t domid, uint32_t generation) override
      ABSL_LOCKS_EXCLUDED(writer_mu_);

 private:
  struct Array;
  struct ArrayDeleter {
    void operator()(Array* a) const;
  };
  using ArrayPtr = std::unique_ptr<Array, ArrayDeleter>;
  // What readers see of one source domid; written under writer_mu_ inside
  // the seqlock.
  struct alignas(16) DomainSlot {
    std::atomic<uint32_t> seq{0};
    std::atomic<uint32_t> generation{0};
    std::atomic<const Array*> live{nullptr};
  };
  // What only writers see of one source domid.
  struct WriterState {
    uint32_t generation = 0;
    uint32_t size = 0;
    std::vector<ArrayPtr> arrays;  // back() is live
  };
  struct Destination {
    Endpoint to;
    uint32_t to_generation;
  };
  // Sources are normal domids and ARGO_DOMID_PARENT.
  static constexpr uint32_t kSourceSlots = ARGO_DOMID_PARENT + 1;

  // The generation of `e`'s domain (0 for the parent), read once: Connect
  // checks existence with this value and installs entries with it. A
  // domain destroyed while Connect runs then leaves either a refusal or
  // entries of the generation that was checked, which that destroy's
  // OnDomainDestroyed (queued behind writer_mu_) removes. A second read
  // could answer 0 (gone) or the generation of a domain re-created with
  // the same domid, and no destroy would ever remove such an entry.
  // InvalidArgument for a reserved domid, NotFound for a missing domain.
  absl::StatusOr<uint32_t> CheckEnd(const Endpoint& e, const char* role)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // The live domain's generation, 0 if there is none (or for the parent).
  uint32_t GenerationOf(domid_t domid)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // `src`'s writer state for `generation`, made (or reset, if it belongs
  // to an earlier domain with that domid) as needed.
  WriterState& StateFor(domid_t src, uint32_t generation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // The entry from `from` if its domain's entries are of `generation`.
  absl::optional<Destination> Get(const Endpoint& from, uint32_t generation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Installs (src, port) -> d for source generation `src_generation`.
  void Insert(domid_t src, uint32_t src_generation, xen_argo_port_t port,
              const Destination& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  void Erase(domid_t src, xen_argo_port_t port)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Unpublishes `src`'s entries and keeps its arrays for freeing after a
  // grace period.
  void Retire(domid_t src) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Removes every entry whose destination is (domid, generation).
  void EraseEntriesTo(domid_t domid, uint32_t generation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  void BeginWrite(DomainSlot& slot);
  void EndWrite(DomainSlot& slot);

  Mutex writer_mu_;
  DomainDirectory* domains_ ABSL_GUARDED_BY(writer_mu_) = nullptr;
  uint32_t total_entries_ ABSL_GUARDED_BY(writer_mu_) = 0;
  absl::flat_hash_map<domid_t, WriterState> writers_
      ABSL_GUARDED_BY(writer_mu_);
  // Arrays unpublished while readers may still hold them.
  std::vector<ArrayPtr> retired_ ABSL_GUARDED_BY(writer_mu_);
  // Read without the lock by Resolve. 512 KiB, inline: one load less than
  // a pointer to it.
  std::array<DomainSlot, kSourceSlots> slots_;
};

}  // namespace argo::implicit_dest

#endif  // IMPLICIT_DEST_IMPLICIT_TABLE_H_
