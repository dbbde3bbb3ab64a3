#include "toolstack_api/measurement/launch_log.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace argo::toolstack {
namespace {

constexpr struct {
  MeasurementKind kind;
  absl::string_view name;
} kKindNames[] = {
    {MeasurementKind::kConfig, "config"},
    {MeasurementKind::kPolicy, "policy"},
    {MeasurementKind::kPolicyModule, "policy-module"},
    {MeasurementKind::kRelabel, "relabel"},
    {MeasurementKind::kCapability, "capability"},
};

bool Printable(char c) { return c >= 0x20 && c <= 0x7e; }

// Cut to the bound, non-printable bytes as '?' (launch_log.h, Measure).
std::string CleanDescription(absl::string_view text) {
  std::string out(text.substr(0, LaunchLog::kMaxDescriptionBytes));
  for (char& c : out) {
    if (!Printable(c)) c = '?';
  }
  return out;
}

void AppendQuoted(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

// A strict reader of exactly LaunchLogJson's format. Every error names
// where it is (a JSON path: "register", "entries[2].digest") and the byte
// offset. No recursion: the format is flat.
class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<SavedLaunchLog> Parse() {
    SavedLaunchLog log;
    absl::Status s = Expect('{', "the log", "'{' opening the log");
    if (s.ok()) s = Key("the log", "register");
    if (s.ok()) s = Digest("register", &log.register_value);
    if (s.ok()) s = Expect(',', "the log", "',' and the key \"entries\"");
    if (s.ok()) s = Key("the log", "entries");
    if (s.ok()) s = Expect('[', "entries", "'[' opening the entries");
    if (!s.ok()) return s;
    SkipSpace();
    if (!Consume(']')) {
      while (true) {
        LaunchLogEntry entry;
        s = Entry(log.entries.size(), &entry);
        if (!s.ok()) return s;
        log.entries.push_back(std::move(entry));
        SkipSpace();
        if (Consume(',')) continue;
        if (Consume(']')) break;
        return Error(absl::StrCat("entries[", log.entries.size() - 1, "]"),
                     "expected ',' or ']' after the entry");
      }
    }
    s = Expect('}', "the log", "'}' closing the log");
    if (!s.ok()) return s;
    SkipSpace();
    if (pos_ != text_.size()) return Error("the log", "bytes after its end");
    return log;
  }

 private:
  absl::Status Entry(size_t index, LaunchLogEntry* entry) {
    const std::string where = absl::StrCat("entries[", index, "]");
    absl::Status s = Expect('{', where, "'{' opening the entry");
    if (s.ok()) s = Key(where, "sequence");
    if (s.ok()) {
      s = Integer(where + ".sequence", /*allow_negative=*/false,
                  std::numeric_limits<uint64_t>::max(), &entry->sequence);
    }
    if (s.ok()) s = NextKey(where, "time_ns");
    if (s.ok()) {
      uint64_t magnitude = 0;
      bool negative = false;
      s = Integer(where + ".time_ns", /*allow_negative=*/true,
                  uint64_t{std::numeric_limits<int64_t>::max()}, &magnitude,
                  &negative);
      // -2^63 is the one magnitude that does not fit in int64 positively.
      entry->time_ns = negative ? static_cast<int64_t>(0 - magnitude)
                                : static_cast<int64_t>(magnitude);
    }
    if (s.ok()) s = NextKey(where, "kind");
    std::string kind;
    if (s.ok()) s = String(where + ".kind", 32, &kind);
    if (s.ok()) {
      absl::optional<MeasurementKind> k = MeasurementKindFromName(kind);
      if (!k.has_value()) {
        return Error(where + ".kind",
                     absl::StrCat("unknown kind \"", kind,
                                  "\" (config, policy, policy-module, "
                                  "relabel or capability)"));
      }
      entry->kind = *k;
    }
    if (s.ok()) s = NextKey(where, "description");
    if (s.ok()) {
      s = String(where + ".description", LaunchLog::kMaxDescriptionBytes,
                 &entry->description);
    }
    if (s.ok()) s = NextKey(where, "digest");
    if (s.ok()) s = Digest(where + ".digest", &entry->digest);
    if (s.ok()) s = Expect('}', where, "'}' closing the entry");
    return s;
  }

  absl::Status Error(absl::string_view where, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "launch log: ", where, ": ", what, " (at byte ", pos_, ")"));
  }

  // What is at pos_, for messages.
  std::string Found() const {
    if (pos_ >= text_.size()) return "the end of the input";
    const char c = text_[pos_];
    if (Printable(c)) return absl::StrCat("'", absl::string_view(&c, 1), "'");
    return absl::StrFormat("byte 0x%02x", static_cast<uint8_t>(c));
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::Status Expect(char c, absl::string_view where,
                      absl::string_view wanted) {
    SkipSpace();
    if (Consume(c)) return absl::OkStatus();
    return Error(where, absl::StrCat("expected ", wanted, ", found ", Found()));
  }

  // `"key":`
  absl::Status Key(absl::string_view where, absl::string_view key) {
    SkipSpace();
    const size_t start = pos_;
    std::string found;
    if (pos_ >= text_.size() || text_[pos_] != '"' ||
        !String(where, 32, &found).ok() || found != key) {
      pos_ = start;
      return Error(where, absl::StrCat("expected the key \"", key,
                                       "\" (keys in the saved order, each "
                                       "once), found ",
                                       Found()));
    }
    return Expect(':', where, absl::StrCat("':' after \"", key, "\""));
  }

  // `, "key":`
  absl::Status NextKey(absl::string_view where, absl::string_view key) {
    absl::Status s =
        Expect(',', where, absl::StrCat("',' and the key \"", key, "\""));
    return s.ok() ? Key(where, key) : s;
  }

  // A string of printable ASCII, escapes \" and \\ only, at most
  // `max_bytes` once unescaped.
  absl::Status String(absl::string_view where, size_t max_bytes,
                      std::string* out) {
    SkipSpace();
    if (!Consume('"')) {
      return Error(where, absl::StrCat("expected a string, found ", Found()));
    }
    out->clear();
    while (true) {
      if (pos_ >= text_.size()) return Error(where, "unterminated string");
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return absl::OkStatus();
      }
      if (c == '\\') {
        ++pos_;
        if (pos_ >= text_.size() ||
            (text_[pos_] != '"' && text_[pos_] != '\\')) {
          return Error(where,
                       "only the escapes \\\" and \\\\ are allowed (a "
                       "description is printable ASCII)");
        }
        c = text_[pos_];
      } else if (!Printable(c)) {
        return Error(where, absl::StrCat(Found(),
                                         " in a string: only "
                                         "printable ASCII is allowed"));
      }
      if (out->size() == max_bytes) {
        return Error(where, absl::StrCat("longer than ", max_bytes, " bytes"));
      }
      out->push_back(c);
      ++pos_;
    }
  }

  absl::Status Digest(absl::string_view where, Sha256Digest* out) {
    std::string hex;
    absl::Status s = String(where, 2 * kSha256Bytes + 1, &hex);
    if (!s.ok()) return s;
    absl::optional<Sha256Digest> digest = Sha256FromHex(hex);
    if (!digest.has_value()) {
      return Error(where, "not 64 lowercase hex digits");
    }
    *out = *digest;
    return absl::OkStatus();
  }

  // A JSON integer (no fraction or exponent, no leading zeros) of
  // magnitude at most `max` (at most max + 1 when negative).
  absl::Status Integer(absl::string_view where, bool allow_negative,
                       uint64_t max, uint64_t* magnitude,
                       bool* negative = nullptr) {
    SkipSpace();
    const bool minus = allow_negative && Consume('-');
    const uint64_t limit = minus ? max + 1 : max;
    const size_t start = pos_;
    uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const uint64_t d = static_cast<uint64_t>(text_[pos_] - '0');
      if (value > (limit - d) / 10) return Error(where, "out of range");
      value = value * 10 + d;
      ++pos_;
    }
    if (pos_ == start) {
      return Error(where, absl::StrCat("expected an integer, found ", Found()));
    }
    if (text_[start] == '0' && pos_ - start > 1) {
      return Error(where, "leading zero");
    }
    if (pos_ < text_.size() &&
        (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      return Error(where, "not an integer");
    }
    if (minus && value == 0) return Error(where, "negative zero");
    *magnitude = value;
    if (negative != nullptr) *negative = minus;
    return absl::OkStatus();
  }

  const absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::string_view MeasurementKindName(MeasurementKind kind) {
  for (const auto& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";  // not reached: every enumerator is in the table
}

absl::optional<MeasurementKind> MeasurementKindFromName(
    absl::string_view name) {
  for (const auto& k : kKindNames) {
    if (k.name == name) return k.kind;
  }
  return absl::nullopt;
}

Sha256Digest ExtendRegister(const Sha256Digest& register_value,
                            const Sha256Digest& digest) {
  Sha256Hasher hasher;
  hasher.Update(absl::string_view(
      reinterpret_cast<const char*>(register_value.data()), kSha256Bytes));
  hasher.Update(absl::string_view(reinterpret_cast<const char*>(digest.data()),
                                  kSha256Bytes));
  return hasher.Finish();
}

LaunchLogEntry LaunchLog::Measure(MeasurementKind kind,
                                  absl::string_view description,
                                  absl::string_view bytes) {
  LaunchLogEntry entry;
  entry.kind = kind;
  entry.description = CleanDescription(description);
  entry.digest = Sha256(bytes);  // before the lock: a policy may be large
  MutexLock l(&mu_);
  register_ = ExtendRegister(register_, entry.digest);
  entry.sequence = entries_.size() + 1;
  entry.time_ns = absl::ToUnixNanos(clock_());
  entries_.push_back(entry);
  return entry;
}

std::vector<LaunchLogEntry> LaunchLog::Entries() const {
  MutexLock l(&mu_);
  return entries_;
}

Sha256Digest LaunchLog::Register() const {
  MutexLock l(&mu_);
  return register_;
}

SavedLaunchLog LaunchLog::Snapshot() const {
  MutexLock l(&mu_);
  return SavedLaunchLog{register_, entries_};
}

std::string LaunchLog::ToJson() const { return LaunchLogJson(Snapshot()); }

std::string LaunchLogJson(const SavedLaunchLog& log) {
  std::string out = absl::StrCat(
      "{\"register\":\"", Sha256ToHex(log.register_value), "\",\"entries\":[");
  for (size_t i = 0; i < log.entries.size(); ++i) {
    const LaunchLogEntry& e = log.entries[i];
    absl::StrAppend(&out, i == 0 ? "\n" : ",\n", "  {\"sequence\":", e.sequence,
                    ",\"time_ns\":", e.time_ns, ",\"kind\":\"",
                    MeasurementKindName(e.kind), "\",\"description\":");
    AppendQuoted(e.description, &out);
    absl::StrAppend(&out, ",\"digest\":\"", Sha256ToHex(e.digest), "\"}");
  }
  absl::StrAppend(&out, log.entries.empty() ? "" : "\n", "]}\n");
  return out;
}

absl::StatusOr<SavedLaunchLog> ParseLaunchLogJson(absl::string_view json) {
  return Parser(json).Parse();
}

absl::Status VerifyLaunchLogJson(absl::string_view json,
                                 std::string* replayed_register_hex) {
  absl::StatusOr<SavedLaunchLog> log = ParseLaunchLogJson(json);
  if (!log.ok()) return log.status();
  Sha256Digest replayed{};
  for (size_t i = 0; i < log->entries.size(); ++i) {
    const uint64_t want = i + 1;
    const uint64_t got = log->entries[i].sequence;
    if (got != want) {
      return absl::InvalidArgumentError(absl::StrCat(
          "launch log: entries[", i, "].sequence: ", got, " where ", want,
          " was expected: ",
          got > want ? absl::StrCat("the entry with sequence ", want,
                                    " is missing or out of order")
                     : "entries out of order or repeated"));
    }
    replayed = ExtendRegister(replayed, log->entries[i].digest);
  }
  const std::string replayed_hex = Sha256ToHex(replayed);
  if (replayed_register_hex != nullptr) *replayed_register_hex = replayed_hex;
  if (replayed != log->register_value) {
    return absl::DataLossError(absl::StrCat(
        "launch log: register mismatch: the log saves ",
        Sha256ToHex(log->register_value), " but its ", log->entries.size(),
        " digests replay to ", replayed_hex,
        " (a digest was changed, an entry added or removed at the end, or "
        "the register edited)"));
  }
  return absl::OkStatus();
}

}  // namespace argo::toolstack
