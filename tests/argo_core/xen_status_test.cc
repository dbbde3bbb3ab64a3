#include "argo_core/xen_status.h"

#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"

namespace argo {
namespace {

TEST(XenStatusTest, MapsErrnosToCodesAndCarriesTheErrno) {
  struct Row {
    int xen_errno;
    absl::StatusCode code;
  } rows[] = {
      {XEN_EINVAL, absl::StatusCode::kInvalidArgument},
      {XEN_EFAULT, absl::StatusCode::kInvalidArgument},
      {XEN_EMSGSIZE, absl::StatusCode::kOutOfRange},
      {XEN_EAGAIN, absl::StatusCode::kUnavailable},
      {XEN_ECONNREFUSED, absl::StatusCode::kNotFound},
      {XEN_ESRCH, absl::StatusCode::kNotFound},
      {XEN_ENOENT, absl::StatusCode::kNotFound},
      {XEN_EPERM, absl::StatusCode::kPermissionDenied},
      {XEN_EACCES, absl::StatusCode::kPermissionDenied},
      {XEN_EEXIST, absl::StatusCode::kAlreadyExists},
      {XEN_ENODEV, absl::StatusCode::kFailedPrecondition},
      {XEN_ENOMEM, absl::StatusCode::kResourceExhausted},
      {XEN_EBUSY, absl::StatusCode::kResourceExhausted},
      {XEN_ENOSPC, absl::StatusCode::kResourceExhausted},
  };
  for (const Row& row : rows) {
    absl::Status s = XenError(row.xen_errno, "detail");
    EXPECT_EQ(s.code(), row.code) << row.xen_errno;
    EXPECT_EQ(XenErrnoOf(s), row.xen_errno);
    EXPECT_EQ(s.message(),
              std::string(XenErrnoName(row.xen_errno)) + ": detail");
  }
}

TEST(XenStatusTest, ReturnValuesConvert) {
  EXPECT_TRUE(XenReturnToStatus(0, "x").ok());
  EXPECT_TRUE(XenReturnToStatus(42, "x").ok());
  absl::Status s = XenReturnToStatus(-XEN_EMSGSIZE, "message of 70000 bytes");
  EXPECT_EQ(s.message(), "EMSGSIZE: message of 70000 bytes");
  EXPECT_EQ(XenErrnoOf(absl::OkStatus()), 0);
  EXPECT_EQ(XenErrnoOf(absl::InternalError("x")), 0);
  EXPECT_EQ(XenErrnoName(1234), "E?");
}

}  // namespace
}  // namespace argo
