#include "argo_core/ring_table.h"

#include <utility>

#include "absl/base/macros.h"

namespace argo {

static_assert(RingTable::kCapacity == 256, "Home() takes the top 8 bits");

void RingTable::Insert(std::unique_ptr<RingInfo> ring) {
  ABSL_ASSERT(size_ < kMaxRingsPerDomain && Find(ring->id()) == nullptr);
  uint32_t i = Home(ring->id());
  while (slots_[i].ring != nullptr) i = (i + 1) & kMask;
  slots_[i].id = ring->id();
  slots_[i].ring = std::move(ring);
  Mark(i, true);
  ++size_;
}

std::unique_ptr<RingInfo> RingTable::Erase(const RingId& id) {
  uint32_t hole = Home(id);
  for (;; hole = (hole + 1) & kMask) {
    if (slots_[hole].ring == nullptr) return nullptr;
    if (slots_[hole].id == id) break;
  }
  std::unique_ptr<RingInfo> erased = std::move(slots_[hole].ring);
  --size_;
  // Backward shift: pull later members of the cluster into the hole when
  // their home does not lie cyclically in (hole, j].
  for (uint32_t j = (hole + 1) & kMask; slots_[j].ring != nullptr;
       j = (j + 1) & kMask) {
    const uint32_t home = Home(slots_[j].id);
    const bool home_in_gap =
        hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_gap) {
      slots_[hole] = std::move(slots_[j]);
      Mark(hole, true);
      hole = j;
    }
  }
  Mark(hole, false);
  return erased;
}

}  // namespace argo
