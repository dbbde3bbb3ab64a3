// A virtually contiguous mapping of guest frames that need not be
// contiguous in guest memory: each frame of the memfd is mapped at its place
// in one reserved window (runs of consecutive frames take one mmap).
// This turns a copy into a scattered ring into at most two memcpys.
#ifndef ARGO_CORE_FRAME_WINDOW_H_
#define ARGO_CORE_FRAME_WINDOW_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace argo {

class FrameWindow {
 public:
  FrameWindow() = default;
  FrameWindow(FrameWindow&& other) noexcept;
  FrameWindow& operator=(FrameWindow&& other) noexcept;
  FrameWindow(const FrameWindow&) = delete;
  FrameWindow& operator=(const FrameWindow&) = delete;
  ~FrameWindow();

  // Maps frames gfns[0..n) of `memfd` at consecutive pages.
  // REQUIRES: every gfn is inside the memfd (callers check the bound).
  // Fails with ResourceExhausted when the kernel refuses a mapping.
  static absl::StatusOr<FrameWindow> Map(int memfd,
                                         absl::Span<const uint64_t> gfns);

  uint8_t* data() const { return base_; }
  size_t size() const { return size_; }
  // Number of mmap segments the window holds (its cost in kernel VMAs).
  uint32_t segments() const { return segments_; }

 private:
  void Reset();

  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t segments_ = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_FRAME_WINDOW_H_
