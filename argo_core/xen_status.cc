#include "argo_core/xen_status.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "argo_core/public/xen_errno.h"

namespace argo {
namespace {

constexpr absl::string_view kErrnoPayloadUrl = "argo.xen/errno";

struct ErrnoRow {
  int value;
  absl::string_view name;
  absl::StatusCode code;
};

constexpr ErrnoRow kErrnoTable[] = {
    {XEN_EPERM, "EPERM", absl::StatusCode::kPermissionDenied},
    {XEN_ENOENT, "ENOENT", absl::StatusCode::kNotFound},
    {XEN_ESRCH, "ESRCH", absl::StatusCode::kNotFound},
    // Never from the hypervisor: the guest transport's "daemon gone".
    {XEN_EIO, "EIO", absl::StatusCode::kUnavailable},
    {XEN_EAGAIN, "EAGAIN", absl::StatusCode::kUnavailable},
    {XEN_ENOMEM, "ENOMEM", absl::StatusCode::kResourceExhausted},
    {XEN_EACCES, "EACCES", absl::StatusCode::kPermissionDenied},
    {XEN_EFAULT, "EFAULT", absl::StatusCode::kInvalidArgument},
    {XEN_EBUSY, "EBUSY", absl::StatusCode::kResourceExhausted},
    {XEN_EEXIST, "EEXIST", absl::StatusCode::kAlreadyExists},
    {XEN_ENODEV, "ENODEV", absl::StatusCode::kFailedPrecondition},
    {XEN_EINVAL, "EINVAL", absl::StatusCode::kInvalidArgument},
    {XEN_ENOSPC, "ENOSPC", absl::StatusCode::kResourceExhausted},
    {XEN_ENOSYS, "ENOSYS", absl::StatusCode::kUnimplemented},
    {XEN_ELOOP, "ELOOP", absl::StatusCode::kFailedPrecondition},
    {XEN_EMSGSIZE, "EMSGSIZE", absl::StatusCode::kOutOfRange},
    {XEN_EOPNOTSUPP, "EOPNOTSUPP", absl::StatusCode::kUnimplemented},
    {XEN_ECONNREFUSED, "ECONNREFUSED", absl::StatusCode::kNotFound},
};

const ErrnoRow* FindRow(int xen_errno) {
  for (const ErrnoRow& row : kErrnoTable) {
    if (row.value == xen_errno) return &row;
  }
  return nullptr;
}

}  // namespace

absl::string_view XenErrnoName(int xen_errno) {
  const ErrnoRow* row = FindRow(xen_errno);
  return row != nullptr ? row->name : "E?";
}

absl::StatusCode XenErrnoToCode(int xen_errno) {
  const ErrnoRow* row = FindRow(xen_errno);
  return row != nullptr ? row->code : absl::StatusCode::kUnknown;
}

absl::Status XenError(int xen_errno, absl::string_view message) {
  absl::Status status(XenErrnoToCode(xen_errno),
                      absl::StrCat(XenErrnoName(xen_errno), ": ", message));
  status.SetPayload(kErrnoPayloadUrl, absl::Cord(absl::StrCat(xen_errno)));
  return status;
}

absl::Status XenReturnToStatus(int64_t rc, absl::string_view what) {
  if (rc >= 0) return absl::OkStatus();
  return XenError(static_cast<int>(-rc), what);
}

int XenErrnoOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrnoPayloadUrl);
  int value = 0;
  if (!payload.has_value() ||
      !absl::SimpleAtoi(std::string(payload->Flatten()), &value)) {
    return 0;
  }
  return value;
}

}  // namespace argo
