// The guest's own page allocator over its guest-physical frames: first-fit
// contiguous runs (one kernel mapping per ring window), else any free
// frames (a scattered ring, which the ABI allows).
//
// Thread safety: none; ArgoGuest serialises its calls.
#ifndef ARGO_CORE_GUEST_FRAME_ALLOCATOR_H_
#define ARGO_CORE_GUEST_FRAME_ALLOCATOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace argo {

class FrameAllocator {
 public:
  // Manages frames [first, first + count).
  FrameAllocator(uint64_t first, uint64_t count);

  // `n` frames, contiguous if possible. ResourceExhausted if fewer are free.
  absl::StatusOr<std::vector<uint64_t>> Allocate(uint64_t n);
  void Free(absl::Span<const uint64_t> frames);
  uint64_t free_frames() const { return free_count_; }

 private:
  const uint64_t first_;
  std::vector<bool> used_;
  uint64_t free_count_;
};

}  // namespace argo

#endif  // ARGO_CORE_GUEST_FRAME_ALLOCATOR_H_
