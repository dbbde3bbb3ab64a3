// "Up to the next hypervisor" (DESIGN §7): where a level sends a guest's
// message whose cable names ARGO_DOMID_PARENT. Implemented by the nesting
// layer (nesting::ParentLink), which sends it in the parent as an implicit
// send from this level's own domain there.
#ifndef ARGO_CORE_UPLINK_H_
#define ARGO_CORE_UPLINK_H_

#include <cstdint>

#include "absl/types/span.h"
#include "argo_core/public/argo.h"
#include "argo_core/traffic_tap.h"

namespace argo {

struct UpwardMessage {
  domid_t sender;                // the guest at this level that sent it
  xen_argo_port_t parent_port;   // the cable's parent:q
  // The message as it goes up: a path block (argo_nesting.h, with the
  // sender's address pushed) followed by the original payload; its type is
  // ARGO_MSG_TYPE_PATH.
  absl::Span<const MessagePart> parts;
  uint32_t total;  // sum of the parts' lengths
};

class Uplink {
 public:
  virtual ~Uplink() = default;
  // Sends synchronously in the parent. Returns the original payload's
  // length on success, or the parent's negative Xen errno (which becomes
  // the sender's sendv result). On -EAGAIN the uplink raises VIRQ_ARGO on
  // `sender` once the parent reports space. Called on the sender's thread
  // under this level's L1 read lock: it may block on the parent, never on
  // this level.
  virtual int64_t SendUp(const UpwardMessage& message) = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_UPLINK_H_
