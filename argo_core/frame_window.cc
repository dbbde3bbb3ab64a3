#include "argo_core/frame_window.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"

namespace argo {

FrameWindow::FrameWindow(FrameWindow&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      segments_(std::exchange(other.segments_, 0)) {}

FrameWindow& FrameWindow::operator=(FrameWindow&& other) noexcept {
  if (this != &other) {
    Reset();
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    segments_ = std::exchange(other.segments_, 0);
  }
  return *this;
}

FrameWindow::~FrameWindow() { Reset(); }

void FrameWindow::Reset() {
  if (base_ != nullptr) munmap(base_, size_);
  base_ = nullptr;
  size_ = 0;
  segments_ = 0;
}

absl::StatusOr<FrameWindow> FrameWindow::Map(int memfd,
                                             absl::Span<const uint64_t> gfns) {
  if (gfns.empty()) return absl::InvalidArgumentError("no frames to map");
  FrameWindow window;
  window.size_ = gfns.size() * kPageSize;
  // Reserve the whole window first so the per-frame MAP_FIXED mappings land
  // in address space we own.
  void* reserved = mmap(nullptr, window.size_, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserved == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ENOMEM: cannot reserve ", window.size_,
                     " bytes of window: ", std::strerror(errno)));
  }
  window.base_ = static_cast<uint8_t*>(reserved);
  size_t i = 0;
  while (i < gfns.size()) {
    size_t run = 1;
    while (i + run < gfns.size() && gfns[i + run] == gfns[i] + run) ++run;
    void* at = window.base_ + i * kPageSize;
    void* mapped = mmap(at, run * kPageSize, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_FIXED, memfd,
                        static_cast<off_t>(gfns[i] * kPageSize));
    if (mapped == MAP_FAILED) {
      return absl::ResourceExhaustedError(
          absl::StrCat("ENOMEM: cannot map guest frame ", gfns[i], ": ",
                       std::strerror(errno)));
    }
    ++window.segments_;
    i += run;
  }
  return window;
}

}  // namespace argo
