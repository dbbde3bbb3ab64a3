// A domain's guest-"physical" memory: N 4 KiB frames backed by a memfd and
// mapped once, whole, into this process. Guest handles are guest-physical
// addresses (GPAs) into it.
//
// Every access on behalf of the hypervisor goes through the bounds-checked
// helpers below; a range with any byte outside memory is refused (the
// caller turns that into EFAULT). The guest may rewrite its memory at any
// time, so callers copy what they need once and never read it twice.
#ifndef ARGO_CORE_GUEST_MEMORY_H_
#define ARGO_CORE_GUEST_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "argo_core/frame_window.h"

namespace argo {

class GuestMemory {
 public:
  // 1 Mi frames (4 GiB of address space; memfds are sparse).
  static constexpr uint64_t kMaxFrames = uint64_t{1} << 20;

  // Creates zeroed memory of `nframes` frames; its memfd is sealed against
  // shrinking and growing (and against changing the seals).
  static absl::StatusOr<std::shared_ptr<GuestMemory>> Create(
      uint64_t nframes, absl::string_view name);

  // Maps an existing memfd (a guest process's view, received over the
  // attach socket). Takes ownership of `memfd`.
  static absl::StatusOr<std::shared_ptr<GuestMemory>> Adopt(int memfd,
                                                            uint64_t nframes);

  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  uint64_t nframes() const { return nframes_; }
  uint64_t size_bytes() const { return nframes_ * 4096; }
  int fd() const { return fd_; }

  // Returns true iff [gpa, gpa + len) lies inside memory.
  bool Contains(uint64_t gpa, uint64_t len) const {
    return gpa <= size_bytes() && len <= size_bytes() - gpa;
  }

  // A host pointer to [gpa, gpa + len), or nullptr if out of range.
  uint8_t* Translate(uint64_t gpa, uint64_t len) const {
    return Contains(gpa, len) ? base_ + gpa : nullptr;
  }

  // Return false (and copy nothing) iff the range is out of memory. Inline:
  // the hot path copies small fixed-size structs.
  bool CopyFrom(uint64_t gpa, void* dst, size_t len) const {
    const uint8_t* src = Translate(gpa, len);
    if (src == nullptr) return false;
    if (len != 0) std::memcpy(dst, src, len);  // dst may be null if len is 0
    return true;
  }
  bool CopyTo(uint64_t gpa, const void* src, size_t len) const {
    uint8_t* dst = Translate(gpa, len);
    if (dst == nullptr) return false;
    if (len != 0) std::memcpy(dst, src, len);  // src may be null if len is 0
    return true;
  }

  // Maps the given frames contiguously. REQUIRES: every gfn < nframes().
  absl::StatusOr<FrameWindow> MapFrames(absl::Span<const uint64_t> gfns) const;

 private:
  GuestMemory(int fd, uint8_t* base, uint64_t nframes)
      : fd_(fd), base_(base), nframes_(nframes) {}

  const int fd_;
  uint8_t* const base_;
  const uint64_t nframes_;
};

}  // namespace argo

#endif  // ARGO_CORE_GUEST_MEMORY_H_
