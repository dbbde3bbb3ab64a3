// A domain's ring table (Xen's ring_hash): RingId -> RingInfo, at most
// kMaxRingsPerDomain entries in a fixed array of twice that many slots,
// open addressing with linear probing and backward-shift deletion (no
// tombstones, so a probe never walks more than the cluster it hashes to).
//
// Fixed size on purpose: a lookup runs on every sendv and is a multiply, an
// index and a compare or two; nothing is allocated after construction.
//
// Thread safety: none; the owning Domain's rings_L2 guards it.
#ifndef ARGO_CORE_RING_TABLE_H_
#define ARGO_CORE_RING_TABLE_H_

#include <array>
#include <cstdint>
#include <memory>

#include "argo_core/argo_limits.h"
#include "argo_core/ring_info.h"

namespace argo {

class RingTable {
 public:
  static constexpr uint32_t kCapacity = 2 * kMaxRingsPerDomain;

  RingInfo* Find(const RingId& id) const {
    for (uint32_t i = Home(id);; i = (i + 1) & kMask) {
      const Slot& slot = slots_[i];
      if (slot.ring == nullptr) return nullptr;
      if (slot.id == id) return slot.ring.get();
    }
  }

  // REQUIRES: size() < kMaxRingsPerDomain and Find(ring->id()) == nullptr.
  void Insert(std::unique_ptr<RingInfo> ring);
  // Removes and returns the ring, or null if absent.
  std::unique_ptr<RingInfo> Erase(const RingId& id);

  uint32_t size() const { return size_; }

  // Calls f(RingInfo*) for each ring; visits only occupied slots.
  template <typename F>
  void ForEach(F&& f) const {
    for (uint32_t word = 0; word < kWords; ++word) {
      for (uint64_t bits = occupied_[word]; bits != 0; bits &= bits - 1) {
        f(slots_[word * 64 + __builtin_ctzll(bits)].ring.get());
      }
    }
  }

 private:
  static constexpr uint32_t kMask = kCapacity - 1;
  static_assert((kCapacity & kMask) == 0, "capacity is a power of two");

  static uint32_t Home(const RingId& id) {
    uint64_t key = (uint64_t{id.aport} << 16) | id.partner_id;
    // Fibonacci hashing: the top bits of key * 2^64/phi.
    return static_cast<uint32_t>(((key + 1) * 0x9E3779B97F4A7C15ull) >> 56) &
           kMask;
  }

  struct Slot {
    RingId id{};
    std::unique_ptr<RingInfo> ring;  // null: empty slot
  };

  void Mark(uint32_t i, bool used) {
    uint64_t bit = uint64_t{1} << (i % 64);
    occupied_[i / 64] =
        used ? occupied_[i / 64] | bit : occupied_[i / 64] & ~bit;
  }

  static constexpr uint32_t kWords = kCapacity / 64;
  std::array<Slot, kCapacity> slots_;
  std::array<uint64_t, kWords> occupied_{};  // bit i: slots_[i] holds a ring
  uint32_t size_ = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_RING_TABLE_H_
