// CPUID, the cheapest trap to a hypervisor, as the unit argo-guest ping
// reports latency in (DESIGN §9): measured in the same process, since
// hosts differ several-fold.
#ifndef GUEST_CLI_CPUID_CLOCK_H_
#define GUEST_CLI_CPUID_CLOCK_H_

#include <cstdint>

namespace argo::guest::cli {

// The median, in nanoseconds, of `samples` single inline `cpuid`
// instructions; 0 where there is no cpuid (not x86-64).
double CpuidMedianNanos(int samples = 1000);

}  // namespace argo::guest::cli

#endif  // GUEST_CLI_CPUID_CLOCK_H_
