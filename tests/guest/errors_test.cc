#include "guest/errors.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "gtest/gtest.h"

namespace argo::guest {
namespace {

// Every errno the hypervisor returns (DESIGN §3.1) and the transport's EIO.
constexpr int kAbiErrnos[] = {
    XEN_EPERM,    XEN_ENOENT,     XEN_ESRCH,        XEN_EIO,    XEN_EAGAIN,
    XEN_ENOMEM,   XEN_EACCES,     XEN_EFAULT,       XEN_EBUSY,  XEN_EEXIST,
    XEN_ENODEV,   XEN_EINVAL,     XEN_ENOSPC,       XEN_ENOSYS, XEN_ELOOP,
    XEN_EMSGSIZE, XEN_EOPNOTSUPP, XEN_ECONNREFUSED,
};

TEST(ErrorsTest, EveryAbiErrnoHasASummaryNamedAfterIt) {
  for (int e : kAbiErrnos) {
    const std::string summary = XenErrorSummary(e);
    EXPECT_TRUE(absl::StartsWith(summary, absl::StrCat(XenErrnoName(e), ": ")))
        << e << " -> " << summary;
    EXPECT_GT(summary.size(), XenErrnoName(e).size() + 6) << summary;
    // Either sign, as hypercalls return them.
    EXPECT_EQ(std::string(XenErrorSummary(-e)), summary);
    EXPECT_EQ(DescribeXenError(-e), summary);
  }
}

TEST(ErrorsTest, UnknownErrnoSaysSo) {
  EXPECT_EQ(DescribeXenError(1234), "E?: unknown error 1234");
  EXPECT_EQ(std::string(XenErrorSummary(1234)), "unknown Xen errno");
}

TEST(ErrorsTest, ImplicitSendOnUncabledPortNamesThePort) {
  ErrorContext c;
  c.op = GuestOp::kSend;
  c.port = 7;
  c.dst = xen_argo_addr_t{0, ARGO_DOMID_IMPLICIT, 0};
  EXPECT_EQ(DescribeXenError(XEN_ECONNREFUSED, c),
            "ECONNREFUSED: port 7 is not cabled");
  c.waiting = true;
  EXPECT_EQ(DescribeXenError(XEN_EAGAIN, c),
            "EAGAIN: ring full, waiting for space");
}

TEST(ErrorsTest, ExplicitSendErrorsNameTheDestination) {
  ErrorContext c;
  c.op = GuestOp::kSend;
  c.port = 5;
  c.dst = xen_argo_addr_t{10, 2, 0};
  c.bytes = 70000;
  EXPECT_EQ(DescribeXenError(XEN_EACCES, c),
            "EACCES: the policy denies this send");
  EXPECT_EQ(DescribeXenError(XEN_EMSGSIZE, c),
            "EMSGSIZE: message of 70000 bytes is larger than the ring at 2:10 "
            "takes");
  EXPECT_EQ(DescribeXenError(XEN_EAGAIN, c), "EAGAIN: ring at 2:10 is full");
}

TEST(ErrorsTest, RegisterErrorsNameTheRing) {
  ErrorContext c;
  c.op = GuestOp::kRegisterRing;
  c.port = 3;
  c.partner = XEN_ARGO_DOMID_ANY;
  EXPECT_EQ(DescribeXenError(XEN_EPERM, c),
            "EPERM: wildcard rings are not permitted at this level");
  c.op = GuestOp::kUnregisterRing;
  EXPECT_EQ(DescribeXenError(XEN_ENOENT, c),
            "ENOENT: no ring on port 3 partner any (already torn down?)");
}

}  // namespace
}  // namespace argo::guest
