// argoctl measurements [--verify FILE]
//
// --verify is offline: it replays a saved log (argoctl measurements --json
// > FILE) without the daemon, so a log kept elsewhere can be checked on
// any machine with argoctl.
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "toolstack_api/cli/command.h"
#include "toolstack_api/cli/text_table.h"
#include "toolstack_api/measurement/launch_log.h"

namespace argo::toolstack::cli {
namespace {

// A saved log is under 300 bytes an entry (launch_log.h); this bounds what
// --verify reads.
constexpr std::streamsize kMaxSavedLogBytes = 64 << 20;

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

int Verify(Context& ctx, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UsageError{absl::StrCat(path, ": cannot be read")};
  std::string json(kMaxSavedLogBytes + 1, '\0');
  file.read(json.data(), kMaxSavedLogBytes + 1);
  if (file.bad()) throw UsageError{absl::StrCat(path, ": cannot be read")};
  json.resize(file.gcount());
  if (json.size() > static_cast<size_t>(kMaxSavedLogBytes)) {
    throw UsageError{
        absl::StrCat(path, ": larger than ", kMaxSavedLogBytes, " bytes")};
  }
  std::string replayed;
  const absl::Status s = VerifyLaunchLogJson(json, &replayed);
  if (ctx.json()) {
    ctx.out() << "{\"ok\":" << (s.ok() ? "true" : "false")
              << ",\"register\":" << JsonString(replayed)
              << ",\"error\":" << JsonString(s.message()) << "}\n";
  } else if (s.ok()) {
    ctx.out() << "OK: " << path << " replays to its register " << replayed
              << "\n";
  }
  if (!s.ok()) {
    ctx.err() << "argoctl: " << path << ": " << s.message() << "\n";
    return kServerError;
  }
  return kOk;
}

int Measurements(Context& ctx, const Args& args) {
  if (args.values.count("verify") > 0) return Verify(ctx, args.Value("verify"));
  v1::Measurements reply;
  std::unique_ptr<grpc::ClientContext> call = ctx.Call();
  grpc::Status status = ctx.stub().GetMeasurements(
      call.get(), v1::GetMeasurementsRequest(), &reply);
  if (!status.ok()) return ctx.Failed(status);
  if (ctx.json()) {
    // The saved format exactly, so `> FILE` is what --verify reads.
    ctx.out() << reply.json();
    if (reply.json().empty() || reply.json().back() != '\n') ctx.out() << "\n";
    return kOk;
  }
  TextTable table({"SEQ", "TIME", "KIND", "DESCRIPTION", "DIGEST"});
  for (const v1::Measurement& m : reply.entries()) {
    table.AddRow({absl::StrCat(m.sequence()),
                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                   absl::FromUnixNanos(m.unix_nanos()),
                                   absl::UTCTimeZone()),
                  m.kind(), m.description(), m.digest()});
  }
  table.Print(ctx.out());
  ctx.out() << "register: " << reply.register_() << "\n";
  return kOk;
}

}  // namespace

std::vector<Command> MeasurementCommands() {
  return {
      {"measurements",
       "[--verify FILE]",
       "the measured launch log and its register",
       "Every configuration applied and every policy, policy module, "
       "relabel and capability grant since argo-hv started: sequence, time, "
       "kind, description, SHA-256 digest of the measured bytes, and the "
       "register they extend (docs/measurement.md).\n"
       "  --json         print the log in its saved format (keep it with "
       "> FILE)\n"
       "  --verify FILE  replay a saved log offline (no daemon needed): OK "
       "and the register, or the error and exit code 1",
       {{"verify"}, {}, 0, 0},
       Measurements},
  };
}

}  // namespace argo::toolstack::cli
