// A bound on the kernel mappings (VMAs) ring windows may hold, so no set of
// guests can exhaust the process's vm.max_map_count: one budget per domain
// (fairness) and one per level (the process). Lock-free: taken before
// rings_L2 is held, on the register path only.
#ifndef ARGO_CORE_MAPPING_BUDGET_H_
#define ARGO_CORE_MAPPING_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace argo {

class MappingBudget {
 public:
  explicit MappingBudget(uint64_t limit) : limit_(limit) {}
  MappingBudget(const MappingBudget&) = delete;
  MappingBudget& operator=(const MappingBudget&) = delete;

  // Takes n mappings if they fit under the limit; false (nothing taken)
  // otherwise.
  bool TryTake(uint64_t n) {
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + n,
                                          std::memory_order_relaxed));
    return true;
  }
  void Give(uint64_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

  uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

}  // namespace argo

#endif  // ARGO_CORE_MAPPING_BUDGET_H_
