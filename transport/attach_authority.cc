#include "transport/attach_authority.h"

namespace argo::transport {

// The codes are the ones AttachAuthority::Attach documents; anything else
// (a destroy in progress, a failure of the authority itself) is a refusal
// the guest may retry later, never one it should read as "wrong token".
AttachError AttachErrorFor(const absl::Status& refusal) {
  switch (refusal.code()) {
    case absl::StatusCode::kOk:
      return kAttachOk;
    case absl::StatusCode::kNotFound:
      return kAttachNoSuchDomain;
    case absl::StatusCode::kPermissionDenied:
      return kAttachBadToken;
    case absl::StatusCode::kAlreadyExists:
      return kAttachBusy;
    default:
      return kAttachUnavailable;
  }
}

}  // namespace argo::transport
