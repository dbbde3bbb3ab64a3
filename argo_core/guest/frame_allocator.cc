#include "argo_core/guest/frame_allocator.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace argo {

FrameAllocator::FrameAllocator(uint64_t first, uint64_t count)
    : first_(first), used_(count, false), free_count_(count) {}

absl::StatusOr<std::vector<uint64_t>> FrameAllocator::Allocate(uint64_t n) {
  if (n == 0 || n > free_count_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "guest memory: ", n, " frames wanted, ", free_count_, " free"));
  }
  std::vector<uint64_t> frames;
  frames.reserve(n);
  // First fit for a contiguous run.
  uint64_t run = 0;
  for (uint64_t i = 0; i < used_.size(); ++i) {
    run = used_[i] ? 0 : run + 1;
    if (run == n) {
      for (uint64_t j = i + 1 - n; j <= i; ++j) {
        used_[j] = true;
        frames.push_back(first_ + j);
      }
      free_count_ -= n;
      return frames;
    }
  }
  // Fragmented: any free frames will do.
  for (uint64_t i = 0; i < used_.size() && frames.size() < n; ++i) {
    if (!used_[i]) {
      used_[i] = true;
      frames.push_back(first_ + i);
    }
  }
  free_count_ -= n;
  return frames;
}

void FrameAllocator::Free(absl::Span<const uint64_t> frames) {
  for (uint64_t frame : frames) {
    uint64_t i = frame - first_;
    if (frame >= first_ && i < used_.size() && used_[i]) {
      used_[i] = false;
      ++free_count_;
    }
  }
}

}  // namespace argo
