// How a guest sleeps until its hypervisor raises VIRQ_ARGO. An attached
// guest process waits on its wake socket (Attachment); an in-process guest
// on whatever its test or simulator wired to the hypervisor's notifier.
#ifndef GUEST_VIRQ_WAITER_H_
#define GUEST_VIRQ_WAITER_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace argo::guest {

class VirqWaiter {
 public:
  virtual ~VirqWaiter() = default;
  // Returns true iff VIRQ_ARGO was raised since the last wait returned true
  // (every pending raise is consumed at once: a VIRQ carries no payload),
  // false on timeout. InfiniteDuration waits for ever. Unavailable if the
  // hypervisor went away.
  virtual absl::StatusOr<bool> WaitVirq(absl::Duration timeout) = 0;
};

}  // namespace argo::guest

#endif  // GUEST_VIRQ_WAITER_H_
