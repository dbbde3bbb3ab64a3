// How a guest sleeps until its hypervisor raises VIRQ_ARGO. An attached
// guest process waits on its wake socket (Attachment); an in-process guest
// on whatever its test or simulator wired to the hypervisor's notifier.
#ifndef GUEST_VIRQ_WAITER_H_
#define GUEST_VIRQ_WAITER_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "argo_core/virq_recorder.h"

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

// An in-process guest's VIRQs, from the VirqRecorder its hypervisor
// raises them through (tests, the nesting simulator).
class RecorderVirqWaiter final : public VirqWaiter {
 public:
  RecorderVirqWaiter(VirqRecorder* virqs, domid_t domid)
      : virqs_(virqs), domid_(domid), seen_(virqs->Count(domid)) {}
  absl::StatusOr<bool> WaitVirq(absl::Duration timeout) override {
    const uint64_t now = virqs_->WaitBeyond(domid_, seen_, timeout);
    const bool raised = now > seen_;
    seen_ = now;
    return raised;
  }

 private:
  VirqRecorder* const virqs_;
  const domid_t domid_;
  uint64_t seen_;  // the waiting thread's only
};

}  // namespace argo::guest

#endif  // GUEST_VIRQ_WAITER_H_
