// Where a registered ring's bytes are, as the hypervisor writes them. Three
// forms, chosen at registration, all with the same bounds:
//   direct  - the frames are consecutive in guest memory: a pointer into the
//             domain's one mapping of its memory. Costs no mapping at all.
//   window  - scattered frames mapped side by side in one reserved window
//             (FrameWindow): copies are one or two memcpys. Costs one kernel
//             mapping per run of consecutive frames, taken from the domain's
//             and the level's MappingBudget and given back on destruction.
//   pages   - scattered frames when a budget is spent (or the kernel refuses
//             a mapping): copies go page by page through the domain's one
//             mapping. Slower, never refused — a greedy guest cannot take
//             mappings from the others, and it is still served.
// Invariant: every byte of [0, npage * 4096) is inside the domain's memory,
// which outlives the ring (the Domain holds it; rings die first).
#ifndef ARGO_CORE_RING_MEMORY_H_
#define ARGO_CORE_RING_MEMORY_H_

#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/types/span.h"
#include "argo_core/frame_window.h"
#include "argo_core/guest_memory.h"
#include "argo_core/mapping_budget.h"
#include "argo_core/public/argo.h"

namespace argo {

class RingMemory {
 public:
  enum class Form { kDirect, kWindow, kPages };

  RingMemory() = default;
  RingMemory(RingMemory&& other) noexcept { *this = std::move(other); }
  RingMemory& operator=(RingMemory&& other) noexcept;
  RingMemory(const RingMemory&) = delete;
  RingMemory& operator=(const RingMemory&) = delete;
  ~RingMemory() { Release(); }

  // The best form for frames `gfns` of `memory` within the budgets.
  // REQUIRES: gfns non-empty, every gfn < memory.nframes(). Never fails.
  static RingMemory Map(const GuestMemory& memory,
                        absl::Span<const uint64_t> gfns,
                        MappingBudget& domain_budget,
                        MappingBudget& level_budget);

  Form form() const { return form_; }
  // Kernel mappings held (window form only).
  uint64_t segments() const { return window_.segments(); }

  // The ring's 64-byte header: always in the first frame.
  xen_argo_ring_t* header() const {
    return reinterpret_cast<xen_argo_ring_t*>(first_);
  }
  // Copies n bytes to ring byte `offset` (counted from the header's start).
  // REQUIRES: offset + n <= the ring's frames' size.
  // memmove, not memcpy: a guest may send from a buffer inside its own
  // ring, and the direct and pages forms write through the very mapping
  // the source was translated into (found by the hypercall fuzzer). For
  // non-overlapping ranges glibc's memmove is its memcpy.
  void Write(uint32_t offset, const uint8_t* src, uint32_t n) const {
    if (contiguous_ != nullptr) {
      std::memmove(contiguous_ + offset, src, n);
    } else {
      WritePages(offset, src, n);
    }
  }

 private:
  void WritePages(uint32_t offset, const uint8_t* src, uint32_t n) const;
  void Release();

  Form form_ = Form::kDirect;
  uint8_t* first_ = nullptr;       // the first frame
  uint8_t* contiguous_ = nullptr;  // direct and window forms
  FrameWindow window_;
  std::vector<uint8_t*> pages_;  // pages form: each frame in guest memory
  MappingBudget* domain_budget_ = nullptr;
  MappingBudget* level_budget_ = nullptr;
};

}  // namespace argo

#endif  // ARGO_CORE_RING_MEMORY_H_
