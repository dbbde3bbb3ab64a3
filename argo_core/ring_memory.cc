#include "argo_core/ring_memory.h"

#include <algorithm>
#include <utility>

#include "argo_core/argo_limits.h"

namespace argo {
namespace {

// Runs of consecutive frames: the mappings a window would need.
uint64_t CountRuns(absl::Span<const uint64_t> gfns) {
  uint64_t runs = 1;
  for (size_t i = 1; i < gfns.size(); ++i) runs += gfns[i] != gfns[i - 1] + 1;
  return runs;
}

}  // namespace

RingMemory& RingMemory::operator=(RingMemory&& other) noexcept {
  if (this != &other) {
    Release();
    form_ = other.form_;
    first_ = std::exchange(other.first_, nullptr);
    contiguous_ = std::exchange(other.contiguous_, nullptr);
    window_ = std::move(other.window_);
    pages_ = std::move(other.pages_);
    domain_budget_ = std::exchange(other.domain_budget_, nullptr);
    level_budget_ = std::exchange(other.level_budget_, nullptr);
  }
  return *this;
}

void RingMemory::Release() {
  if (domain_budget_ != nullptr) {
    const uint64_t n = window_.segments();
    domain_budget_->Give(n);
    level_budget_->Give(n);
  }
  window_ = FrameWindow();
  domain_budget_ = nullptr;
  level_budget_ = nullptr;
  first_ = nullptr;
  contiguous_ = nullptr;
  pages_.clear();
}

RingMemory RingMemory::Map(const GuestMemory& memory,
                           absl::Span<const uint64_t> gfns,
                           MappingBudget& domain_budget,
                           MappingBudget& level_budget) {
  RingMemory out;
  const uint64_t runs = CountRuns(gfns);
  if (runs == 1) {
    out.form_ = Form::kDirect;
    out.first_ = memory.Translate(gfns[0] * kPageSize, gfns.size() * kPageSize);
    out.contiguous_ = out.first_;
    return out;
  }
  if (domain_budget.TryTake(runs)) {
    if (level_budget.TryTake(runs)) {
      absl::StatusOr<FrameWindow> window = memory.MapFrames(gfns);
      if (window.ok()) {
        out.form_ = Form::kWindow;
        out.window_ = *std::move(window);
        out.first_ = out.window_.data();
        out.contiguous_ = out.first_;
        out.domain_budget_ = &domain_budget;
        out.level_budget_ = &level_budget;
        return out;
      }
      level_budget.Give(runs);
    }
    domain_budget.Give(runs);
  }
  // A budget is spent (or the kernel refused): page by page, no mapping.
  out.form_ = Form::kPages;
  out.pages_.reserve(gfns.size());
  for (uint64_t gfn : gfns) {
    out.pages_.push_back(memory.Translate(gfn * kPageSize, kPageSize));
  }
  out.first_ = out.pages_[0];
  return out;
}

void RingMemory::WritePages(uint32_t offset, const uint8_t* src,
                            uint32_t n) const {
  while (n != 0) {
    const uint32_t in_page = offset & (kPageSize - 1);
    const uint32_t chunk = std::min(n, kPageSize - in_page);
    std::memmove(pages_[offset >> kPageShift] + in_page, src, chunk);
    offset += chunk;
    src += chunk;
    n -= chunk;
  }
}

}  // namespace argo
