// The one mapping of an authority's refusal to the code a guest sees.
#include "transport/attach_authority.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace argo::transport {
namespace {

TEST(AttachErrorForTest, EachDocumentedRefusalHasItsCode) {
  EXPECT_EQ(AttachErrorFor(absl::OkStatus()), kAttachOk);
  EXPECT_EQ(AttachErrorFor(absl::NotFoundError("no domain named \"x\"")),
            kAttachNoSuchDomain);
  EXPECT_EQ(AttachErrorFor(absl::PermissionDeniedError("not the token")),
            kAttachBadToken);
  EXPECT_EQ(AttachErrorFor(absl::AlreadyExistsError("run by pid 7")),
            kAttachBusy);
}

// Anything else — a destroy in progress, the authority's own failure — is
// "not now", never mistaken for a bad token or a missing domain.
TEST(AttachErrorForTest, EverythingElseIsUnavailable) {
  for (const absl::Status& s :
       {absl::FailedPreconditionError("being destroyed"),
        absl::UnavailableError("no memory"),
        absl::InvalidArgumentError("pid 0"), absl::InternalError("bug"),
        absl::ResourceExhaustedError("full")}) {
    EXPECT_EQ(AttachErrorFor(s), kAttachUnavailable) << s;
  }
}

}  // namespace
}  // namespace argo::transport
