#include "guest/cli/cpuid_clock.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace argo::guest::cli {
namespace {

#if defined(__x86_64__)
// Leaf 0; the asm is volatile so every call really traps.
inline void Cpuid() {
  uint32_t eax = 0, ebx, ecx = 0, edx;
  asm volatile("cpuid"
               : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx)
               :
               : "memory");
}
#endif

}  // namespace

double CpuidMedianNanos(int samples) {
#if defined(__x86_64__)
  std::vector<double> ns;
  ns.reserve(samples);
  for (int i = 0; i < samples; ++i) {
    const auto start = std::chrono::steady_clock::now();
    Cpuid();
    const auto end = std::chrono::steady_clock::now();
    ns.push_back(std::chrono::duration<double, std::nano>(end - start).count());
  }
  if (ns.empty()) return 0;
  std::nth_element(ns.begin(), ns.begin() + ns.size() / 2, ns.end());
  return ns[ns.size() / 2];
#else
  (void)samples;
  return 0;
#endif
}

}  // namespace argo::guest::cli
