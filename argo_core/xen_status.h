// The one table between Xen errno values (the hypercall ABI) and
// absl::Status (inside C++ libraries and at the control plane).
#ifndef ARGO_CORE_XEN_STATUS_H_
#define ARGO_CORE_XEN_STATUS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace argo {

// "EINVAL" for XEN_EINVAL; "E?" for values outside the ABI.
absl::string_view XenErrnoName(int xen_errno);

// The status code a Xen errno maps to (STYLE: EINVAL/EFAULT ->
// InvalidArgument, EMSGSIZE -> OutOfRange, EAGAIN -> Unavailable, ...).
absl::StatusCode XenErrnoToCode(int xen_errno);

// A status whose message starts with the Xen name ("EMSGSIZE: ...") and
// which carries the errno as a payload, so XenErrnoOf can recover it.
absl::Status XenError(int xen_errno, absl::string_view message);

// Converts a hypercall return value: >= 0 is OK, < 0 a negated Xen errno.
absl::Status XenReturnToStatus(int64_t rc, absl::string_view what);

// The Xen errno a status carries, or 0 if none (OK or not from XenError).
int XenErrnoOf(const absl::Status& status);

}  // namespace argo

#endif  // ARGO_CORE_XEN_STATUS_H_
