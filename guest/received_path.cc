#include "guest/received_path.h"

#include "absl/strings/str_cat.h"
#include "argo_core/public/argo_nesting.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"

namespace argo::guest {

absl::StatusOr<absl::optional<ReceivedPath>> ParseReceivedPath(
    uint32_t message_type, absl::Span<const uint8_t> payload) {
  if (message_type != ARGO_MSG_TYPE_PATH) return absl::nullopt;
  ReceivedPath received;
  const int bytes = ParseNamePath(payload, &received.path);
  if (bytes < 0) {
    return XenError(XEN_EINVAL,
                    absl::StrCat("malformed path block in a message of ",
                                 payload.size(), " bytes"));
  }
  // 0 < bytes <= payload.size(): ParseNamePath checked the block fits.
  received.payload = payload.subspan(static_cast<size_t>(bytes));
  return absl::optional<ReceivedPath>(received);
}

absl::StatusOr<absl::optional<ReceivedPath>> ParseReceivedPath(
    const ReceivedMessage& m) {
  return ParseReceivedPath(m.message_type, absl::MakeConstSpan(m.payload));
}

}  // namespace argo::guest
