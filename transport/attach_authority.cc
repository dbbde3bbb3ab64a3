#include "transport/attach_authority.h"

namespace argo::transport {

AttachError AttachErrorFor(const absl::Status& refusal) {
  switch (refusal.code()) {
    case absl::StatusCode::kNotFound:
      return kAttachNoSuchDomain;
    case absl::StatusCode::kPermissionDenied:
      return kAttachBadToken;
    case absl::StatusCode::kAlreadyExists:
      return kAttachBusy;
    case absl::StatusCode::kInvalidArgument:
      return kAttachBadHello;
    default:
      return kAttachUnavailable;
  }
}

}  // namespace argo::transport
