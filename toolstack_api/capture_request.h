// A Capture RPC's request, checked and turned into what the hub runs
// (issue 11). Apart from the service so the fuzz target can drive it.
#ifndef TOOLSTACK_API_CAPTURE_REQUEST_H_
#define TOOLSTACK_API_CAPTURE_REQUEST_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "toolstack_api/capture/capture_hub.h"
#include "toolstack_api/toolstack.pb.h"

namespace argo::toolstack {

struct CaptureSpec {
  CaptureFilter filter;
  uint64_t buffer_bytes = 0;
  uint64_t count = 0;     // 0: no limit
  uint32_t seconds = 0;   // 0: no limit
  std::string description;  // the filter in words (events, log)
};

// Resolves the request's domain (nullopt when unset), with the API's errors.
using DomainResolver = std::function<absl::StatusOr<absl::optional<domid_t>>(
    bool present, const v1::DomainRef& ref)>;

// InvalidArgument naming the field for a snap length, buffer or duration
// out of range, or a domain that does not resolve (its own status).
absl::StatusOr<CaptureSpec> CaptureSpecFromRequest(
    const v1::CaptureRequest& request, const DomainResolver& resolve);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_CAPTURE_REQUEST_H_
