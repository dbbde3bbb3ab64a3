#include "toolstack_api/capture_request.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace argo::toolstack {
namespace {

constexpr uint32_t kDefaultSnapLen = 256;
constexpr uint32_t kDefaultBufferKib = 4096;
constexpr uint32_t kMaxSeconds = 7 * 24 * 3600;

// The filter in words, for the capture's events and log lines.
std::string Describe(const CaptureFilter& f, uint64_t count,
                     uint32_t seconds) {
  std::vector<std::string> parts;
  if (f.domain) parts.push_back(absl::StrCat("domain ", *f.domain));
  if (f.port) parts.push_back(absl::StrCat("port ", *f.port));
  if (f.message_type) parts.push_back(absl::StrCat("type ", *f.message_type));
  parts.push_back(f.delivered && f.refused ? "delivered and refused"
                  : f.refused              ? "refused only"
                                           : "delivered");
  parts.push_back(absl::StrCat("snap ", f.snap_len));
  if (count != 0) parts.push_back(absl::StrCat("count ", count));
  if (seconds != 0) parts.push_back(absl::StrCat("for ", seconds, " s"));
  return absl::StrJoin(parts, ", ");
}

}  // namespace

absl::StatusOr<CaptureSpec> CaptureSpecFromRequest(
    const v1::CaptureRequest& request, const DomainResolver& resolve) {
  CaptureSpec spec;
  CaptureFilter& filter = spec.filter;
  absl::StatusOr<absl::optional<domid_t>> domain =
      resolve(request.has_domain(), request.domain());
  if (!domain.ok()) return domain.status();
  filter.domain = *domain;
  if (request.has_port()) filter.port = request.port();
  if (request.has_message_type()) filter.message_type = request.message_type();
  if (request.only_refused()) {
    filter.delivered = false;
    filter.refused = true;
  } else {
    filter.refused = request.include_refused();
  }
  if (request.snap_len() > Capture::kMaxSnapLen) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snap_len: ", request.snap_len(), " exceeds ", Capture::kMaxSnapLen));
  }
  filter.snap_len =
      request.snap_len() == 0 ? kDefaultSnapLen : request.snap_len();
  if (request.buffer_kib() > CaptureHub::kMaxBufferBytes / 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("buffer_kib: ", request.buffer_kib(), " exceeds ",
                     CaptureHub::kMaxBufferBytes / 1024));
  }
  spec.buffer_bytes =
      uint64_t{request.buffer_kib() == 0 ? kDefaultBufferKib
                                         : request.buffer_kib()} *
      1024;
  if (request.seconds() > kMaxSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "seconds: ", request.seconds(), " exceeds a week (", kMaxSeconds, ")"));
  }
  spec.count = request.count();
  spec.seconds = request.seconds();
  spec.description = Describe(filter, spec.count, spec.seconds);
  return spec;
}

}  // namespace argo::toolstack
