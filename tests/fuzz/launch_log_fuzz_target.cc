// libFuzzer: a saved launch log (toolstack_api/measurement/launch_log.h)
// through the offline verifier. Whatever the bytes:
//   - VerifyLaunchLogJson answers OK, InvalidArgument or DataLoss, and sets
//     the replayed register exactly when the replay ran (OK, DataLoss);
//   - it fails with InvalidArgument whenever ParseLaunchLogJson does;
//   - a log that parses writes back (LaunchLogJson) to text that parses to
//     the same log and writes back to itself;
//   - a log that verifies replays to its own register.
// Then the same bytes are measured into a live log, as description and as
// measured data: whatever a description holds, the log saves and verifies.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "toolstack_api/measurement/launch_log.h"
#include "toolstack_api/measurement/sha256.h"

namespace {

using argo::toolstack::LaunchLog;
using argo::toolstack::LaunchLogJson;
using argo::toolstack::MeasurementKind;
using argo::toolstack::ParseLaunchLogJson;
using argo::toolstack::SavedLaunchLog;
using argo::toolstack::Sha256ToHex;
using argo::toolstack::VerifyLaunchLogJson;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  std::string replayed = "unset";
  const absl::Status verified = VerifyLaunchLogJson(text, &replayed);
  const absl::StatusCode code = verified.code();
  Check(code == absl::StatusCode::kOk ||
        code == absl::StatusCode::kInvalidArgument ||
        code == absl::StatusCode::kDataLoss);
  Check((replayed != "unset") == (code != absl::StatusCode::kInvalidArgument));

  absl::StatusOr<SavedLaunchLog> parsed = ParseLaunchLogJson(text);
  if (!parsed.ok()) {
    Check(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    Check(code == absl::StatusCode::kInvalidArgument);
  } else {
    const std::string written = LaunchLogJson(*parsed);
    absl::StatusOr<SavedLaunchLog> again = ParseLaunchLogJson(written);
    Check(again.ok() && *again == *parsed);
    Check(LaunchLogJson(*again) == written);
    // The canonical text verifies the same way.
    Check(VerifyLaunchLogJson(written, nullptr).code() == code);
    if (code == absl::StatusCode::kOk) {
      Check(replayed == Sha256ToHex(parsed->register_value));
    }
  }

  const int64_t when = static_cast<int64_t>(size) * 1000;
  LaunchLog log([when] { return absl::FromUnixNanos(when); });
  log.Measure(static_cast<MeasurementKind>(size % 5), text, text);
  log.Measure(MeasurementKind::kRelabel, text.substr(size / 2), "");
  std::string live_replayed;
  Check(VerifyLaunchLogJson(log.ToJson(), &live_replayed).ok());
  Check(live_replayed == Sha256ToHex(log.Register()));
  return 0;
}
