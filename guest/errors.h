// Xen errnos in words a guest programmer can act on: "ECONNREFUSED: port 7
// is not cabled" rather than "error -111". One table of meanings per op,
// shared by the C++ Guest (status messages), the C interface
// (argo_strerror) and the argo-guest CLI.
#ifndef GUEST_ERRORS_H_
#define GUEST_ERRORS_H_

#include <cstdint>
#include <string>

#include "argo_core/public/argo.h"

namespace argo::guest {

// What the failed call was doing; each op reads only its own fields.
enum class GuestOp {
  kOther,  // a raw hypercall: no more is known
  kRegisterRing,
  kUnregisterRing,
  kSend,    // sendv; dst.domain_id == ARGO_DOMID_IMPLICIT for implicit
  kNotify,  // a notify with queries (dst as for kSend)
};

struct ErrorContext {
  GuestOp op = GuestOp::kOther;
  xen_argo_port_t port = 0;  // the ring's port, or a send's source port
  domid_t partner = 0;       // register/unregister: the ring's partner
  xen_argo_addr_t dst = {};  // send/notify: where to
  uint64_t bytes = 0;        // send: the payload; register: the ring len
  bool waiting = false;      // send: EAGAIN while waiting for space
};

// The explanation alone ("port 7 is not cabled"). Takes the errno with
// either sign; an errno outside the ABI gets "unknown error N".
std::string ExplainXenError(int xen_errno, const ErrorContext& context = {});

// "NAME: explanation", e.g. "ECONNREFUSED: port 7 is not cabled".
std::string DescribeXenError(int xen_errno, const ErrorContext& context = {});

// The context-free description, in static storage (never freed): what
// argo_strerror returns.
const char* XenErrorSummary(int xen_errno);

}  // namespace argo::guest

#endif  // GUEST_ERRORS_H_
