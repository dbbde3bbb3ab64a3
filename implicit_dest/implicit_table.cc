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

constexpr uint32_t kInitialCapacity = 8;

uint32_t Home(xen_argo_port_t port) {
  return static_cast<uint32_t>(((uint64_t{port} + 1) * 0x9E3779B97F4A7C15ull) >>
                               32);
}

}  // namespace

// One open-addressing array, its slots inline after the header, so a
// reader never pairs an array with another array's mask. The header is
// aligned like a slot so the slots after it are too (a misaligned 8-byte
// atomic may straddle a cache line and is not atomic).
struct alignas(16) ImplicitTable::Array {
  struct Slot {
    std::atomic<uint64_t> key{0};
    std::atomic<uint64_t> value{0};
  };

  explicit Array(uint32_t capacity) : mask(capacity - 1) {
    for (uint32_t i = 0; i < capacity; ++i) new (&slots()[i]) Slot();
  }
  static ArrayPtr Make(uint32_t capacity) {
    static_assert(sizeof(Array) % alignof(Slot) == 0,
                  "slots after the header are aligned");
    void* memory = ::operator new(sizeof(Array) + capacity * sizeof(Slot));
    return ArrayPtr(new (memory) Array(capacity));
  }
  Slot* slots() { return reinterpret_cast<Slot*>(this + 1); }
  const Slot* slots() const { return reinterpret_cast<const Slot*>(this + 1); }

  // The slot words, written and read only here. key: 0 when empty, else
  // port | to.domid << 32 | kOccupied; value: to.port | to_generation << 32.
  static constexpr uint64_t kOccupied = uint64_t{1} << 48;
  static uint64_t KeyWord(xen_argo_port_t port, domid_t to_domid) {
    return uint64_t{port} | (uint64_t{to_domid} << 32) | kOccupied;
  }
  static uint64_t ValueWord(const Destination& d) {
    return uint64_t{d.to.port} | (uint64_t{d.to_generation} << 32);
  }
  static xen_argo_port_t PortOf(uint64_t key) {
    return static_cast<xen_argo_port_t>(key);
  }
  static Destination Decode(uint64_t key, uint64_t value) {
    return Destination{
        Endpoint{static_cast<domid_t>(key >> 32), static_cast<uint32_t>(value)},
        static_cast<uint32_t>(value >> 32)};
  }

  // Writer side (stable array): f(port, destination) for every entry.
  template <typename F>
  void ForEach(F&& f) const {
    for (uint32_t i = 0; i <= mask; ++i) {
      const uint64_t key = slots()[i].key.load(std::memory_order_relaxed);
      if (key != 0) {
        f(PortOf(key),
          Decode(key, slots()[i].value.load(std::memory_order_relaxed)));
      }
    }
  }

  // Index of `port`, or mask + 1 if absent. Writer side (stable array).
  uint32_t FindIndex(xen_argo_port_t port) const {
    for (uint32_t i = Home(port) & mask;; i = (i + 1) & mask) {
      const uint64_t key = slots()[i].key.load(std::memory_order_relaxed);
      if (key == 0) return mask + 1;
      if (PortOf(key) == port) return i;
    }
  }
  void Place(uint64_t key, uint64_t value) {
    uint32_t i = Home(PortOf(key)) & mask;
    while (slots()[i].key.load(std::memory_order_relaxed) != 0)
      i = (i + 1) & mask;
    slots()[i].value.store(value, std::memory_order_relaxed);
    slots()[i].key.store(key, std::memory_order_relaxed);
  }

  const uint32_t mask;
};

void ImplicitTable::ArrayDeleter::operator()(Array* a) const {
  for (uint32_t i = 0; i <= a->mask; ++i) a->slots()[i].~Slot();
  a->~Array();
  ::operator delete(a);
}

ImplicitTable::ImplicitTable() = default;
ImplicitTable::~ImplicitTable() = default;

void ImplicitTable::Bind(DomainDirectory* domains) {
  MutexLock l(&writer_mu_);
  domains_ = domains;
}

void ImplicitTable::BeginWrite(DomainSlot& slot) {
  slot.seq.store(slot.seq.load(std::memory_order_relaxed) + 1,
                 std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void ImplicitTable::EndWrite(DomainSlot& slot) {
  slot.seq.store(slot.seq.load(std::memory_order_relaxed) + 1,
                 std::memory_order_release);
}

uint32_t ImplicitTable::GenerationOf(domid_t domid) {
  if (domid == ARGO_DOMID_PARENT) return 0;
  absl::StatusOr<uint32_t> generation = domains_->DomainGeneration(domid);
  return generation.ok() ? *generation : 0;
}

absl::StatusOr<uint32_t> ImplicitTable::CheckEnd(const Endpoint& e,
                                                 const char* role) {
  if (e.domid == ARGO_DOMID_PARENT) return 0;
  if (!IsNormalDomid(e.domid)) {
    return absl::InvalidArgumentError(absl::StrCat(
        role, " domid ", e.domid, " is reserved; use a domain or parent"));
  }
  absl::StatusOr<uint32_t> generation = domains_->DomainGeneration(e.domid);
  if (!generation.ok()) {
    return absl::NotFoundError(
        absl::StrCat(role, " domain ", e.domid, " does not exist"));
  }
  return generation;
}

void ImplicitTable::Retire(domid_t src) {
  auto it = writers_.find(src);
  if (it == writers_.end()) return;
  DomainSlot& slot = slots_[src];
  BeginWrite(slot);
  slot.live.store(nullptr, std::memory_order_relaxed);
  EndWrite(slot);
  total_entries_ -= it->second.size;
  for (ArrayPtr& array : it->second.arrays)
    retired_.push_back(std::move(array));
  writers_.erase(it);
}

ImplicitTable::WriterState& ImplicitTable::StateFor(domid_t src,
                                                    uint32_t generation) {
  auto it = writers_.find(src);
  if (it != writers_.end() && it->second.generation == generation) {
    return it->second;
  }
  // None yet, or an earlier domain's whose teardown has not run yet (its
  // entries are dead: generation mismatch).
  Retire(src);
  WriterState& state = writers_[src];
  state.generation = generation;
  state.arrays.push_back(Array::Make(kInitialCapacity));
  DomainSlot& slot = slots_[src];
  BeginWrite(slot);
  slot.generation.store(generation, std::memory_order_relaxed);
  // Release: publishes the freshly built array (see Resolve).
  slot.live.store(state.arrays.back().get(), std::memory_order_release);
  EndWrite(slot);
  return state;
}

absl::optional<ImplicitTable::Destination> ImplicitTable::Get(
    const Endpoint& from, uint32_t generation) {
  auto it = writers_.find(from.domid);
  if (it == writers_.end() || it->second.generation != generation) {
    return absl::nullopt;
  }
  const Array& a = *it->second.arrays.back();
  const uint32_t i = a.FindIndex(from.port);
  if (i > a.mask) return absl::nullopt;
  return Array::Decode(a.slots()[i].key.load(std::memory_order_relaxed),
                       a.slots()[i].value.load(std::memory_order_relaxed));
}

void ImplicitTable::Insert(domid_t src, uint32_t src_generation,
                           xen_argo_port_t port, const Destination& d) {
  WriterState& state = StateFor(src, src_generation);
  DomainSlot& slot = slots_[src];
  Array* array = state.arrays.back().get();
  if ((state.size + 1) * 2 > array->mask + 1) {
    // Build the doubled array aside (nobody else writes meanwhile), then
    // publish it; the old one stays allocated for readers still in it.
    ArrayPtr bigger = Array::Make(2 * (array->mask + 1));
    for (uint32_t i = 0; i <= array->mask; ++i) {
      const uint64_t key =
          array->slots()[i].key.load(std::memory_order_relaxed);
      if (key != 0) {
        bigger->Place(key,
                      array->slots()[i].value.load(std::memory_order_relaxed));
      }
    }
    array = bigger.get();
    state.arrays.push_back(std::move(bigger));
    BeginWrite(slot);
    // Release: publishes the array built above (see Resolve).
    slot.live.store(array, std::memory_order_release);
    EndWrite(slot);
  }
  BeginWrite(slot);
  array->Place(Array::KeyWord(port, d.to.domid), Array::ValueWord(d));
  EndWrite(slot);
  ++state.size;
  ++total_entries_;
}

void ImplicitTable::Erase(domid_t src, xen_argo_port_t port) {
  WriterState& state = writers_.at(src);
  Array& a = *state.arrays.back();
  uint32_t hole = a.FindIndex(port);
  if (hole > a.mask) return;
  DomainSlot& slot = slots_[src];
  BeginWrite(slot);
  // Backward shift: pull later members of the cluster into the hole when
  // their home does not lie cyclically in (hole, j]. Readers racing with
  // this retry (seqlock), so no tombstones are needed.
  for (uint32_t j = (hole + 1) & a.mask;; j = (j + 1) & a.mask) {
    const uint64_t key = a.slots()[j].key.load(std::memory_order_relaxed);
    if (key == 0) break;
    const uint32_t home = Home(Array::PortOf(key)) & a.mask;
    const bool home_in_gap =
        hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_gap) {
      a.slots()[hole].value.store(
          a.slots()[j].value.load(std::memory_order_relaxed),
          std::memory_order_relaxed);
      a.slots()[hole].key.store(key, std::memory_order_relaxed);
      hole = j;
    }
  }
  a.slots()[hole].key.store(0, std::memory_order_relaxed);
  EndWrite(slot);
  --state.size;
  --total_entries_;
}

absl::Status ImplicitTable::Connect(Endpoint from, Endpoint to,
                                    bool bidirectional) {
  MutexLock l(&writer_mu_);
  if (domains_ == nullptr)
    return absl::FailedPreconditionError("table not bound");
  // Each domain's generation is read once, here; everything below uses
  // these values (see CheckEnd). Two ports of one domain share one read.
  const absl::StatusOr<uint32_t> from_generation = CheckEnd(from, "source");
  if (!from_generation.ok()) return from_generation.status();
  const absl::StatusOr<uint32_t> to_generation =
      to.domid == from.domid ? from_generation : CheckEnd(to, "destination");
  if (!to_generation.ok()) return to_generation.status();
  if (from == to) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a cable cannot lead from ", EndpointName(from), " back to itself"));
  }
  if (from.domid == ARGO_DOMID_PARENT && to.domid == ARGO_DOMID_PARENT) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a cable cannot join ", EndpointName(from), " to ", EndpointName(to),
        ": both ends are the parent's; cable its ports in the parent"));
  }
  struct Source {
    Endpoint end;
    uint32_t generation;
  };
  std::vector<Source> sources = {{from, *from_generation}};
  if (bidirectional) sources.push_back({to, *to_generation});
  for (const auto& [end, generation] : sources) {
    if (absl::optional<Destination> existing = Get(end, generation)) {
      return absl::AlreadyExistsError(
          absl::StrCat(EndpointName(end), " is already cabled to ",
                       EndpointName(existing->to), "; disconnect it first"));
    }
  }
  const uint32_t added = static_cast<uint32_t>(sources.size());
  if (total_entries_ + added > kMaxEntries) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the table holds its maximum of ", kMaxEntries, " entries"));
  }
  for (const auto& [end, generation] : sources) {
    // A cable between two ports of one domain adds both entries to it.
    uint32_t adding = 0;
    for (const Source& s : sources) adding += s.end.domid == end.domid;
    auto it = writers_.find(end.domid);
    if (it != writers_.end() && it->second.generation == generation &&
        it->second.size + adding > kMaxEntriesPerDomain) {
      return absl::ResourceExhaustedError(
          absl::StrCat(EndpointName(end), ": its domain already has ",
                       kMaxEntriesPerDomain, " cabled ports"));
    }
  }
  Insert(from.domid, *from_generation, from.port,
         Destination{to, *to_generation});
  if (bidirectional) {
    Insert(to.domid, *to_generation, to.port,
           Destination{from, *from_generation});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Cable>> ImplicitTable::Disconnect(
    Endpoint from, bool bidirectional) {
  MutexLock l(&writer_mu_);
  if (domains_ == nullptr)
    return absl::FailedPreconditionError("table not bound");
  const uint32_t from_generation = GenerationOf(from.domid);
  absl::optional<Destination> to = Get(from, from_generation);
  if (!to.has_value()) {
    return absl::NotFoundError(
        absl::StrCat(EndpointName(from), " is not cabled"));
  }
  std::vector<Cable> removed = {Cable{from, to->to}};
  Erase(from.domid, from.port);
  if (bidirectional) {
    absl::optional<Destination> back =
        Get(to->to, to->to.domid == from.domid ? from_generation
                                               : GenerationOf(to->to.domid));
    if (back.has_value() && back->to == from) {
      Erase(to->to.domid, to->to.port);
      removed.push_back(Cable{to->to, from});
    }
  }
  return removed;
}

std::vector<Cable> ImplicitTable::List(absl::optional<domid_t> domain) {
  MutexLock l(&writer_mu_);
  std::vector<Cable> out;
  if (domains_ == nullptr) return out;
  for (const auto& [src, state] : writers_) {
    if (state.generation != GenerationOf(src)) continue;
    state.arrays.back()->ForEach(
        [&, src = src](xen_argo_port_t port, const Destination& d) {
          if (!domain.has_value() || *domain == src || *domain == d.to.domid) {
            out.push_back(Cable{Endpoint{src, port}, d.to});
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
  absl::optional<Destination> d = Get(from, GenerationOf(from.domid));
  if (!d.has_value()) return absl::nullopt;
  return d->to;
}

uint32_t ImplicitTable::size() {
  MutexLock l(&writer_mu_);
  return total_entries_;
}

namespace {

// A writer is inside this domain's seqlock: let it finish (spin briefly,
// then yield). Out of line: the send path rarely gets here.
__attribute__((noinline)) void WaitOutWriter(int attempt) {
  SpinBackoff::PauseAfter(attempt);
}

}  // namespace

// The send path: the sending domain's slot, then its array. Lock-free,
// validated by the slot's seqlock.
ImplicitDestination ImplicitTable::Resolve(domid_t src, uint32_t src_generation,
                                           xen_argo_port_t src_port) {
  constexpr ImplicitDestination kRefused{-XEN_ECONNREFUSED, 0, 0, 0};
  if (src >= kSourceSlots) return kRefused;
  const DomainSlot& slot = slots_[src];
  for (int attempt = 0;; ++attempt) {
    const uint32_t s1 = slot.seq.load(std::memory_order_acquire);
    if (s1 & 1) {
      WaitOutWriter(attempt);
      continue;
    }
    // Acquire, pairing with the writer's release store of `live`: when the
    // pointer is to an array the writer has just built (growth, or a first
    // entry), its construction (the plain `mask`, the slot words) happens
    // before our reads of it. The seqlock alone does not order them: s1 may
    // predate the writer's BeginWrite, and the seq check after the probe
    // comes too late to make reads of a half-built array defined. (The
    // writer's release store, not BeginWrite's fence, is what TSan sees.)
    // On x86 both are plain movs.
    const Array* a = slot.live.load(std::memory_order_acquire);
    const bool ours =
        a != nullptr &&
        slot.generation.load(std::memory_order_relaxed) == src_generation;
    uint64_t key = 0, value = 0;
    bool found = false;
    if (ours) {
      // The mask travels with the array; at most one pass over it,
      // whatever a racing writer does.
      const uint32_t mask = a->mask;
      for (uint32_t i = Home(src_port) & mask, n = 0; n <= mask;
           i = (i + 1) & mask, ++n) {
        key = a->slots()[i].key.load(std::memory_order_relaxed);
        if (key == 0) break;
        if (Array::PortOf(key) == src_port) {
          value = a->slots()[i].value.load(std::memory_order_relaxed);
          found = true;
          break;
        }
      }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.seq.load(std::memory_order_relaxed) != s1) continue;
    if (!found) return kRefused;
    const Destination d = Array::Decode(key, value);
    // Up to the next hypervisor (DESIGN §7): the level forwards it.
    if (d.to.domid == ARGO_DOMID_PARENT) {
      return ImplicitDestination{kImplicitParent, ARGO_DOMID_PARENT,
                                 d.to.port, 0};
    }
    return ImplicitDestination{0, d.to.domid, d.to.port, d.to_generation};
  }
}

void ImplicitTable::EraseEntriesTo(domid_t domid, uint32_t generation) {
  std::vector<std::pair<domid_t, xen_argo_port_t>> dead;
  for (const auto& [src, state] : writers_) {
    state.arrays.back()->ForEach(
        [&, src = src](xen_argo_port_t port, const Destination& d) {
          if (d.to.domid == domid && d.to_generation == generation) {
            dead.emplace_back(src, port);
          }
        });
  }
  for (const auto& [src, port] : dead) Erase(src, port);
}

void ImplicitTable::OnDomainDestroyed(domid_t domid, uint32_t generation) {
  std::vector<ArrayPtr> garbage;
  DomainDirectory* domains;
  {
    MutexLock l(&writer_mu_);
    if (domains_ == nullptr || domid >= kSourceSlots) return;
    domains = domains_;
    auto it = writers_.find(domid);
    if (it != writers_.end() && it->second.generation == generation) {
      Retire(domid);
    }
    EraseEntriesTo(domid, generation);
    garbage.swap(retired_);
  }
  if (garbage.empty()) return;
  // Readers that loaded a retired array are inside a hypercall: wait them
  // out, then free.
  domains->WaitForHypercalls();
}

}  // namespace argo::implicit_dest
