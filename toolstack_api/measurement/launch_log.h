// The measured launch log (issue 10): what the boot domain loaded and
// changed — configuration, policy, policy modules, relabels, capabilities —
// hashed into one register the way a TPM extends a PCR, with an event log
// beside it that says what each extension was.
//
//   digest   = SHA-256(measured bytes)
//   register = SHA-256(register || digest)   (32 + 32 bytes; starts at zeros)
//
// The register commits to the digests in order: changing, dropping, adding
// or reordering any of them changes it. It does not commit to an entry's
// sequence, time, kind or description — as in a TPM event log, those are
// annotations for the reader (the sequence numbers are checked for gaps by
// the verifier below, the rest are not checkable).
//
// Bounds. Measuring is never refused and never skipped: a missing
// measurement would make the register lie. And every entry is kept: an
// entry dropped while the register goes on extending could no longer be
// replayed offline, so the saved log would not verify. The log is bounded
// per entry instead (a description is cut to kMaxDescriptionBytes and the
// measured bytes are not kept, only their digest: under 300 bytes an
// entry), and in count by who measures: the boot domain's own actions
// (loading a configuration or policy, a relabel, a capability grant), a
// handful per boot and a few per administrative change, never a guest's
// traffic.
//
// Offline verification (VerifyLaunchLogJson) has only the digests, not the
// measured bytes. It proves that the saved log is the one the saved
// register commits to; whether a digest is the digest of the file one
// expects is for the reader to check (`sha256sum policy.textproto` against
// the entry's digest).
//
// Thread safety: every LaunchLog method may be called from any thread. mu_
// is a leaf; the clock is called under it and must not call back into the
// log. Measured bytes are hashed before taking it.
#ifndef TOOLSTACK_API_MEASUREMENT_LAUNCH_LOG_H_
#define TOOLSTACK_API_MEASUREMENT_LAUNCH_LOG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "argo_core/mutex.h"
#include "toolstack_api/measurement/sha256.h"

namespace argo::toolstack {

// What was measured. The names are the saved log's spelling.
enum class MeasurementKind {
  kConfig,        // "config": a boot configuration
  kPolicy,        // "policy": a whole policy
  kPolicyModule,  // "policy-module": a policy module loaded on top
  kRelabel,       // "relabel": a domain's label changed
  kCapability,    // "capability": a capability granted or revoked
};

absl::string_view MeasurementKindName(MeasurementKind kind);
// The kind iff `name` is one of MeasurementKindName's names exactly.
absl::optional<MeasurementKind> MeasurementKindFromName(absl::string_view name);

struct LaunchLogEntry {
  uint64_t sequence = 0;  // 1, 2, ... in the order of extension
  int64_t time_ns = 0;    // Unix time of the measurement
  MeasurementKind kind = MeasurementKind::kConfig;
  // A label for the reader ("policy.textproto", "domain 3 -> storage_t"):
  // printable ASCII, at most LaunchLog::kMaxDescriptionBytes.
  std::string description;
  Sha256Digest digest{};  // SHA-256 of the measured bytes

  bool operator==(const LaunchLogEntry&) const = default;
};

// The one extension rule: SHA-256 of the register's 32 bytes followed by
// the digest's 32 bytes.
Sha256Digest ExtendRegister(const Sha256Digest& register_value,
                            const Sha256Digest& digest);

// A log as saved: its register and its entries in sequence order.
struct SavedLaunchLog {
  Sha256Digest register_value{};
  std::vector<LaunchLogEntry> entries;

  bool operator==(const SavedLaunchLog&) const = default;
};

class LaunchLog {
 public:
  // A description is cut to this many bytes (a file name or a short
  // relabel text fits; the bound keeps each entry small).
  static constexpr size_t kMaxDescriptionBytes = 200;
  using Clock = std::function<absl::Time()>;

  // The daemon's: the real clock.
  LaunchLog() : LaunchLog([] { return absl::Now(); }) {}
  // Tests: a fake clock makes the saved log's bytes deterministic.
  explicit LaunchLog(Clock clock) : clock_(std::move(clock)) {}
  LaunchLog(const LaunchLog&) = delete;
  LaunchLog& operator=(const LaunchLog&) = delete;

  // Hashes `bytes`, extends the register with the digest and appends the
  // entry, which it returns. `description` is cut to kMaxDescriptionBytes
  // and every byte outside printable ASCII becomes '?' (it is a label, not
  // measured; plain ASCII keeps the saved log readable by any tool and its
  // parser small). Never fails.
  LaunchLogEntry Measure(MeasurementKind kind, absl::string_view description,
                         absl::string_view bytes) ABSL_LOCKS_EXCLUDED(mu_);

  // Snapshots.
  std::vector<LaunchLogEntry> Entries() const ABSL_LOCKS_EXCLUDED(mu_);
  Sha256Digest Register() const ABSL_LOCKS_EXCLUDED(mu_);
  // The register and the entries, taken together (one lock).
  SavedLaunchLog Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);
  // LaunchLogJson(Snapshot()).
  std::string ToJson() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable Mutex mu_;
  Clock clock_ ABSL_GUARDED_BY(mu_);
  Sha256Digest register_ ABSL_GUARDED_BY(mu_){};  // starts at zeros
  // entries_[i].sequence == i + 1.
  std::vector<LaunchLogEntry> entries_ ABSL_GUARDED_BY(mu_);
};

// The saved-log format, one line per entry, keys in this order:
//
//   {"register":"<64 hex>","entries":[
//     {"sequence":1,"time_ns":1700000000000000000,"kind":"config",
//      "description":"default.textproto","digest":"<64 hex>"}
//   ]}
//
// (each entry on one line). Hex is lowercase; a description escapes only
// '"' and '\' (it holds printable ASCII only).
std::string LaunchLogJson(const SavedLaunchLog& log);

// Parses exactly the format LaunchLogJson writes: the same keys in the same
// order, each once, nothing else; JSON whitespace between tokens is
// allowed (a pretty-printed copy parses). InvalidArgument naming the entry
// (entries[i]) and field, and the byte offset, for anything else. Checks
// each field's form only, not the sequence numbers or the register.
absl::StatusOr<SavedLaunchLog> ParseLaunchLogJson(absl::string_view json);

// Parses `json` (as ParseLaunchLogJson), checks that the sequences are
// 1..n in order, replays the digests from a zero register and compares
// with the saved register. OK iff all hold.
//   InvalidArgument: malformed, or a sequence out of place (names the
//     entry: a dropped or reordered entry shows here).
//   DataLoss: well formed, but the digests replay to another register
//     (states both: a changed digest, an entry dropped at the end, or an
//     edited register shows here).
// `replayed_register_hex` (may be null) is set to the replayed register's
// hex whenever the replay ran (OK and DataLoss), else left unchanged.
absl::Status VerifyLaunchLogJson(absl::string_view json,
                                 std::string* replayed_register_hex);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_MEASUREMENT_LAUNCH_LOG_H_
