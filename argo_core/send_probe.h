// The answer to "what would a sendv do?" (Hypervisor::ProbeSend): the Xen
// errno a send would return now and which of sendv's checks decided it.
// sendv and the probe run the same decision code; only auditing and the
// side effects (waiter queueing, copying, counters) differ.
#ifndef ARGO_CORE_SEND_PROBE_H_
#define ARGO_CORE_SEND_PROBE_H_

#include <cstdint>

#include "absl/types/optional.h"
#include "argo_core/public/argo.h"
#include "argo_core/ring_info.h"

namespace argo {

// sendv's checks, in the order it makes them (DESIGN §3.3, §4).
enum class SendCheck {
  kCaller,           // the caller is a domain (ESRCH)
  kEnable,           // XSM enable, checked on every op (EACCES)
  kSource,           // src.domain_id is the caller or ANY (EPERM), pads (EINVAL)
  kImplicit,         // the implicit sentinel resolves (EINVAL, ECONNREFUSED, ENOSYS)
  kDestination,      // the destination domain exists (ESRCH)
  kPolicy,           // XSM send (+ send_explicit) (EACCES)
  kSenderArgo,       // the sender has Argo (ENODEV)
  kDestinationArgo,  // the destination has Argo (ECONNREFUSED)
  kUplink,          // cabled to the parent level: the parent decides
  kChildLevel,      // to a child level: its buffers and its table decide
  kRing,             // a ring matches (ECONNREFUSED)
  kFits,             // the message fits the ring at all (EMSGSIZE)
  kSpace,            // it fits now (EAGAIN)
  kDelivered,        // every check passed
};

const char* SendCheckName(SendCheck check);

struct SendProbe {
  int xen_errno = 0;  // 0 (delivered) or a positive Xen errno
  SendCheck decided_by = SendCheck::kCaller;
  // The destination after implicit resolution (set from kDestination on).
  xen_argo_addr_t destination{};
  // The ring a send would land in (set from kFits on).
  absl::optional<RingSnapshot> ring;
};

}  // namespace argo

#endif  // ARGO_CORE_SEND_PROBE_H_
