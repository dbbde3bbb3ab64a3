// Who learns that rings came and went: the toolstack's event stream (§6).
// Injected so the core does no I/O; a null observer costs nothing.
#ifndef ARGO_CORE_RING_OBSERVER_H_
#define ARGO_CORE_RING_OBSERVER_H_

#include <cstdint>

#include "absl/types/span.h"
#include "argo_core/public/argo.h"
#include "argo_core/ring_id.h"

namespace argo {

struct RingChange {
  domid_t owner;
  RingId id;
  uint32_t len;
  bool registered;  // false: unregistered, or torn down with a domain
};

class RingObserver {
 public:
  virtual ~RingObserver() = default;
  // Called with no hypervisor lock held, after the change took effect, in
  // the order the changes happened for one hypercall or teardown. Must not
  // block and must not call back into the hypervisor. Re-registering an
  // existing ring with new frames is not a change.
  virtual void OnRingChanges(absl::Span<const RingChange> changes) = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_RING_OBSERVER_H_
