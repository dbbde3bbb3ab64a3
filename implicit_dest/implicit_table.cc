#include "implicit_dest/implicit_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/spin_backoff.h"

namespace argo::implicit_dest {

std::string EndpointName(const Endpoint& e) {
  if (e.domid == ARGO_DOMID_PARENT) return absl::StrCat("parent:", e.port);
  return absl::StrCat("dom", e.domid, ":", e.port);
}

namespace {

struct Destination {
  Endpoint to;
  uint32_t to_generation;
};

// Slot words. key: 0 when empty, else port | to.domid << 32 | kOccupied;
// value: to.port | to_generation << 32.
constexpr uint64_t kOccupied = uint64_t{1} << 48;

uint64_t KeyWord(xen_argo_port_t port, domid_t to_domid) {
  return uint64_t{port} | (uint64_t{to_domid} << 32) | kOccupied;
}
uint64_t ValueWord(const Destination& d) {
  return uint64_t{d.to.port} | (uint64_t{d.to_generation} << 32);
}
Destination Decode(uint64_t key, uint64_t value) {
  return Destination{
      Endpoint{static_cast<domid_t>(key >> 32), static_cast<uint32_t>(value)},
      static_cast<uint32_t>(value >> 32)};
}
uint32_t Home(xen_argo_port_t port) {
  return static_cast<uint32_t>(((uint64_t{port} + 1) * 0x9E3779B97F4A7C15ull) >>
                               32);
}

}  // namespace

// One source domain's ports. Readers: Find (lock-free, seqlock-validated).
// Writers: everything else, with the table's writer_mu_ held.
class ImplicitTable::PortMap {
 public:
  explicit PortMap(uint32_t generation) : generation_(generation) {
    Publish(std::make_unique<Array>(kInitialCapacity));
  }

  uint32_t generation() const { return generation_; }
  uint32_t size() const { return size_; }

  // A consistent lookup, safe against concurrent writers.
  bool Find(xen_argo_port_t port, Destination* out) const {
    SpinBackoff backoff;
    for (;;) {
      const uint32_t s1 = seq_.load(std::memory_order_acquire);
      if (s1 & 1) {
        backoff.Pause();
        continue;
      }
      const Array* array = live_.load(std::memory_order_relaxed);
      uint64_t key = 0, value = 0;
      bool found = false;
      // At most one pass over the array, whatever a racing writer does.
      for (uint32_t i = Home(port) & array->mask, n = 0; n <= array->mask;
           i = (i + 1) & array->mask, ++n) {
        key = array->slots[i].key.load(std::memory_order_relaxed);
        if (key == 0) break;
        if (static_cast<uint32_t>(key) == port) {
          value = array->slots[i].value.load(std::memory_order_relaxed);
          found = true;
          break;
        }
      }
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == s1) {
        if (found) *out = Decode(key, value);
        return found;
      }
    }
  }

  // Writer side. REQUIRES: port absent; size() < kMaxEntriesPerDomain.
  void Insert(xen_argo_port_t port, const Destination& d) {
    const Array* array = live_.load(std::memory_order_relaxed);
    if ((size_ + 1) * 2 > array->mask + 1) {
      Grow();
      array = live_.load(std::memory_order_relaxed);
    }
    BeginWrite();
    Place(*array, KeyWord(port, d.to.domid), ValueWord(d));
    EndWrite();
    ++size_;
  }

  // Writer side. Returns true iff `port` had an entry.
  bool Erase(xen_argo_port_t port) {
    const Array& a = *live_.load(std::memory_order_relaxed);
    uint32_t hole = FindIndex(a, port);
    if (hole > a.mask) return false;
    BeginWrite();
    // Backward shift: pull later members of the cluster into the hole when
    // their home does not lie cyclically in (hole, j]. Readers racing with
    // this retry (seqlock), so no tombstones are needed.
    for (uint32_t j = (hole + 1) & a.mask;; j = (j + 1) & a.mask) {
      const uint64_t key = a.slots[j].key.load(std::memory_order_relaxed);
      if (key == 0) break;
      const uint32_t home = Home(static_cast<uint32_t>(key)) & a.mask;
      const bool home_in_gap =
          hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!home_in_gap) {
        a.slots[hole].value.store(
            a.slots[j].value.load(std::memory_order_relaxed),
            std::memory_order_relaxed);
        a.slots[hole].key.store(key, std::memory_order_relaxed);
        hole = j;
      }
    }
    a.slots[hole].key.store(0, std::memory_order_relaxed);
    EndWrite();
    --size_;
    return true;
  }

  // Writer side: the entry for `port`, if any.
  absl::optional<Destination> FindLocked(xen_argo_port_t port) const {
    const Array& a = *live_.load(std::memory_order_relaxed);
    uint32_t i = FindIndex(a, port);
    if (i > a.mask) return absl::nullopt;
    return Decode(a.slots[i].key.load(std::memory_order_relaxed),
                  a.slots[i].value.load(std::memory_order_relaxed));
  }

  // Writer side: f(port, destination) for every entry.
  template <typename F>
  void ForEach(F&& f) const {
    const Array& a = *live_.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i <= a.mask; ++i) {
      const uint64_t key = a.slots[i].key.load(std::memory_order_relaxed);
      if (key != 0) {
        f(static_cast<uint32_t>(key),
          Decode(key, a.slots[i].value.load(std::memory_order_relaxed)));
      }
    }
  }

 private:
  static constexpr uint32_t kInitialCapacity = 8;

  struct Slot {
    std::atomic<uint64_t> key{0};
    std::atomic<uint64_t> value{0};
  };
  // The capacity travels with the slots, so a reader never pairs an array
  // with another array's mask.
  struct Array {
    explicit Array(uint32_t capacity)
        : mask(capacity - 1), slots(new Slot[capacity]) {}
    const uint32_t mask;
    const std::unique_ptr<Slot[]> slots;
  };

  void BeginWrite() {
    seq_.store(seq_.load(std::memory_order_relaxed) + 1,
               std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  void EndWrite() {
    seq_.store(seq_.load(std::memory_order_relaxed) + 1,
               std::memory_order_release);
  }

  // Index of `port` in `a`, or a.mask + 1 if absent.
  static uint32_t FindIndex(const Array& a, xen_argo_port_t port) {
    for (uint32_t i = Home(port) & a.mask;; i = (i + 1) & a.mask) {
      const uint64_t key = a.slots[i].key.load(std::memory_order_relaxed);
      if (key == 0) return a.mask + 1;
      if (static_cast<uint32_t>(key) == port) return i;
    }
  }

  static void Place(const Array& a, uint64_t key, uint64_t value) {
    uint32_t i = Home(static_cast<uint32_t>(key)) & a.mask;
    while (a.slots[i].key.load(std::memory_order_relaxed) != 0) {
      i = (i + 1) & a.mask;
    }
    a.slots[i].value.store(value, std::memory_order_relaxed);
    a.slots[i].key.store(key, std::memory_order_relaxed);
  }

  // Builds the doubled array aside (nobody else writes meanwhile) and
  // publishes it; the old one stays allocated for readers still in it.
  void Grow() {
    const Array& old = *live_.load(std::memory_order_relaxed);
    auto bigger = std::make_unique<Array>(2 * (old.mask + 1));
    for (uint32_t i = 0; i <= old.mask; ++i) {
      const uint64_t key = old.slots[i].key.load(std::memory_order_relaxed);
      if (key != 0) {
        Place(*bigger, key, old.slots[i].value.load(std::memory_order_relaxed));
      }
    }
    BeginWrite();
    Publish(std::move(bigger));
    EndWrite();
  }

  void Publish(std::unique_ptr<Array> array) {
    live_.store(array.get(), std::memory_order_release);
    arrays_.push_back(std::move(array));
  }

  const uint32_t generation_;
  std::atomic<uint32_t> seq_{0};
  std::atomic<const Array*> live_{nullptr};
  uint32_t size_ = 0;                         // writer only
  std::vector<std::unique_ptr<Array>> arrays_;  // writer only; back() is live
};

ImplicitTable::ImplicitTable() = default;

ImplicitTable::~ImplicitTable() {
  for (auto& slot : maps_) delete slot.load(std::memory_order_relaxed);
}

void ImplicitTable::Bind(DomainDirectory* domains) {
  MutexLock l(&writer_mu_);
  domains_ = domains;
}

uint32_t ImplicitTable::GenerationOf(domid_t domid) {
  if (domid == ARGO_DOMID_PARENT) return 0;
  absl::StatusOr<uint32_t> generation = domains_->DomainGeneration(domid);
  return generation.ok() ? *generation : 0;
}

absl::Status ImplicitTable::CheckEnd(const Endpoint& e, const char* role) {
  if (e.domid == ARGO_DOMID_PARENT) return absl::OkStatus();
  if (!IsNormalDomid(e.domid)) {
    return absl::InvalidArgumentError(absl::StrCat(
        role, " domid ", e.domid, " is reserved; use a domain or parent"));
  }
  if (!domains_->DomainGeneration(e.domid).ok()) {
    return absl::NotFoundError(absl::StrCat(role, " domain ", e.domid,
                                            " does not exist"));
  }
  return absl::OkStatus();
}

ImplicitTable::PortMap* ImplicitTable::MapFor(domid_t src) {
  const uint32_t generation = GenerationOf(src);
  PortMap* map = maps_[src].load(std::memory_order_relaxed);
  if (map != nullptr && map->generation() == generation) return map;
  auto fresh = std::make_unique<PortMap>(generation);
  if (map != nullptr) {
    // An earlier domain's map whose teardown has not run yet: its entries
    // are dead (generation mismatch).
    total_entries_ -= map->size();
    retired_.emplace_back(map);
  }
  maps_[src].store(fresh.get(), std::memory_order_release);
  return fresh.release();
}

absl::optional<Endpoint> ImplicitTable::LookupLocked(const Endpoint& from) {
  PortMap* map = maps_[from.domid].load(std::memory_order_relaxed);
  if (map == nullptr || map->generation() != GenerationOf(from.domid)) {
    return absl::nullopt;
  }
  absl::optional<Destination> d = map->FindLocked(from.port);
  if (!d.has_value()) return absl::nullopt;
  return d->to;
}

absl::Status ImplicitTable::Connect(Endpoint from, Endpoint to,
                                    bool bidirectional) {
  MutexLock l(&writer_mu_);
  if (domains_ == nullptr) return absl::FailedPreconditionError("table not bound");
  if (absl::Status s = CheckEnd(from, "source"); !s.ok()) return s;
  if (absl::Status s = CheckEnd(to, "destination"); !s.ok()) return s;
  if (from == to) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a cable cannot lead from ", EndpointName(from), " back to itself"));
  }
  if (from.domid == ARGO_DOMID_PARENT && to.domid == ARGO_DOMID_PARENT) {
    return absl::InvalidArgumentError("a cable cannot join parent to parent");
  }
  std::vector<Endpoint> sources = {from};
  if (bidirectional) sources.push_back(to);
  for (const Endpoint& end : sources) {
    if (absl::optional<Endpoint> existing = LookupLocked(end)) {
      return absl::AlreadyExistsError(absl::StrCat(
          EndpointName(end), " is already cabled to ", EndpointName(*existing),
          "; disconnect it first"));
    }
  }
  const uint32_t added = static_cast<uint32_t>(sources.size());
  if (total_entries_ + added > kMaxEntries) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the table holds its maximum of ", kMaxEntries, " entries"));
  }
  for (const Endpoint& end : sources) {
    PortMap* map = maps_[end.domid].load(std::memory_order_relaxed);
    if (map != nullptr && map->generation() == GenerationOf(end.domid) &&
        map->size() >= kMaxEntriesPerDomain) {
      return absl::ResourceExhaustedError(
          absl::StrCat(EndpointName(end), ": its domain already has ",
                       kMaxEntriesPerDomain, " cabled ports"));
    }
  }
  MapFor(from.domid)->Insert(from.port, Destination{to, GenerationOf(to.domid)});
  if (bidirectional) {
    MapFor(to.domid)->Insert(to.port, Destination{from, GenerationOf(from.domid)});
  }
  total_entries_ += added;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Cable>> ImplicitTable::Disconnect(Endpoint from,
                                                             bool bidirectional) {
  MutexLock l(&writer_mu_);
  if (domains_ == nullptr) return absl::FailedPreconditionError("table not bound");
  absl::optional<Endpoint> to = LookupLocked(from);
  if (!to.has_value()) {
    return absl::NotFoundError(
        absl::StrCat(EndpointName(from), " is not cabled"));
  }
  std::vector<Cable> removed = {Cable{from, *to}};
  maps_[from.domid].load(std::memory_order_relaxed)->Erase(from.port);
  --total_entries_;
  if (bidirectional) {
    absl::optional<Endpoint> back = LookupLocked(*to);
    if (back.has_value() && *back == from) {
      maps_[to->domid].load(std::memory_order_relaxed)->Erase(to->port);
      --total_entries_;
      removed.push_back(Cable{*to, from});
    }
  }
  return removed;
}

std::vector<Cable> ImplicitTable::List(absl::optional<domid_t> domain) {
  MutexLock l(&writer_mu_);
  std::vector<Cable> out;
  for (uint32_t src = 0; src < kSourceSlots; ++src) {
    PortMap* map = maps_[src].load(std::memory_order_relaxed);
    if (map == nullptr) continue;
    const domid_t from_domid = static_cast<domid_t>(src);
    if (domains_ == nullptr || map->generation() != GenerationOf(from_domid)) {
      continue;
    }
    map->ForEach([&](xen_argo_port_t port, const Destination& d) {
      if (!domain.has_value() || *domain == from_domid || *domain == d.to.domid) {
        out.push_back(Cable{Endpoint{from_domid, port}, d.to});
      }
    });
  }
  std::sort(out.begin(), out.end(), [](const Cable& a, const Cable& b) {
    return std::make_pair(a.from.domid, a.from.port) <
           std::make_pair(b.from.domid, b.from.port);
  });
  return out;
}

absl::optional<Endpoint> ImplicitTable::Lookup(Endpoint from) {
  MutexLock l(&writer_mu_);
  if (domains_ == nullptr || from.domid >= kSourceSlots) return absl::nullopt;
  return LookupLocked(from);
}

uint32_t ImplicitTable::size() {
  MutexLock l(&writer_mu_);
  return total_entries_;
}

int ImplicitTable::Resolve(domid_t src, uint32_t src_generation,
                           xen_argo_port_t src_port, ImplicitDestination* out) {
  if (src >= kSourceSlots) return -XEN_ECONNREFUSED;
  const PortMap* map = maps_[src].load(std::memory_order_acquire);
  if (map == nullptr || map->generation() != src_generation) {
    return -XEN_ECONNREFUSED;
  }
  Destination d;
  if (!map->Find(src_port, &d)) return -XEN_ECONNREFUSED;
  // Forwarding to the parent arrives with nesting (DESIGN §7).
  if (d.to.domid == ARGO_DOMID_PARENT) return -XEN_ENOSYS;
  out->addr = xen_argo_addr_t{d.to.port, d.to.domid, 0};
  out->domain_generation = d.to_generation;
  return 0;
}

void ImplicitTable::EraseEntriesTo(domid_t domid, uint32_t generation) {
  for (uint32_t src = 0; src < kSourceSlots; ++src) {
    PortMap* map = maps_[src].load(std::memory_order_relaxed);
    if (map == nullptr) continue;
    std::vector<xen_argo_port_t> dead;
    map->ForEach([&](xen_argo_port_t port, const Destination& d) {
      if (d.to.domid == domid && d.to_generation == generation) {
        dead.push_back(port);
      }
    });
    for (xen_argo_port_t port : dead) map->Erase(port);
    total_entries_ -= static_cast<uint32_t>(dead.size());
  }
}

void ImplicitTable::OnDomainDestroyed(domid_t domid, uint32_t generation) {
  std::vector<std::unique_ptr<PortMap>> garbage;
  DomainDirectory* domains;
  {
    MutexLock l(&writer_mu_);
    if (domains_ == nullptr || domid >= kSourceSlots) return;
    domains = domains_;
    PortMap* map = maps_[domid].load(std::memory_order_relaxed);
    if (map != nullptr && map->generation() == generation) {
      maps_[domid].store(nullptr, std::memory_order_release);
      total_entries_ -= map->size();
      retired_.emplace_back(map);
    }
    EraseEntriesTo(domid, generation);
    garbage.swap(retired_);
  }
  if (garbage.empty()) return;
  // Readers that loaded a retired map are inside a hypercall: wait them
  // out, then free.
  domains->WaitForHypercalls();
}

}  // namespace argo::implicit_dest
