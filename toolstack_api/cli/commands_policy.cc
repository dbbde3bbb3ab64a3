// argoctl policy load | show | relabel | audit
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "implicit_dest/policy/default_policy.h"
#include "toolstack_api/cli/command.h"
#include "toolstack_api/cli/text_table.h"
#include "toolstack_api/config_file.h"
#include "toolstack_api/endpoint_text.h"

namespace argo::toolstack::cli {
namespace {

void PrintPolicySummary(std::ostream& out, const v1::PolicyInfo& p) {
  out << "policy generation " << p.generation() << "; types: "
      << absl::StrJoin(p.types(), ", ") << "\n";
}

int Load(Context& ctx, const Args& args) {
  v1::LoadPolicyRequest request;
  const std::string& file = args.positional[0];
  if (file == "@default") {
    // The default this argoctl was built with, named so in the daemon's
    // messages: the way back to "any domain may do anything".
    request.set_text(std::string(policy::DefaultPolicyText()));
  } else {
    // Refuses a directory or an empty file here (exit 2, nothing sent).
    absl::StatusOr<std::string> text = ReadTextFile(file, TextKind::kPolicy);
    if (!text.ok()) throw UsageError{std::string(text.status().message())};
    request.set_text(*std::move(text));
  }
  request.set_name(file);
  return Unary<v1::LoadPolicyRequest, v1::PolicyInfo>(
      ctx, &v1::Toolstack::Stub::LoadPolicy, request,
      [&](const v1::PolicyInfo& p) {
        ctx.out() << "loaded " << args.positional[0] << ": ";
        PrintPolicySummary(ctx.out(), p);
      });
}

int Show(Context& ctx, const Args&) {
  return Unary<v1::GetPolicyRequest, v1::PolicyInfo>(
      ctx, &v1::Toolstack::Stub::GetPolicy, v1::GetPolicyRequest(),
      [&](const v1::PolicyInfo& p) {
        ctx.out() << "# ";
        PrintPolicySummary(ctx.out(), p);
        ctx.out() << p.text();
      });
}

int Relabel(Context& ctx, const Args& args) {
  v1::RelabelRequest request;
  *request.mutable_domain() = DomainArg(args.positional[0]);
  request.set_label(args.positional[1]);
  return Unary<v1::RelabelRequest, v1::Domain>(
      ctx, &v1::Toolstack::Stub::Relabel, request, [&](const v1::Domain& d) {
        ctx.out() << "domain " << d.name() << " (id " << d.id()
                  << ") is now " << d.label() << "\n";
      });
}

int Audit(Context& ctx, const Args& args) {
  v1::GetAuditRequest request;
  if (!args.Value("max").empty()) {
    uint32_t max = 0;
    if (!absl::SimpleAtoi(args.Value("max"), &max)) {
      throw UsageError{"--max takes a number"};
    }
    request.set_max(max);
  }
  request.set_page_size(PageSizeArg(args));
  return Listing<v1::GetAuditRequest, v1::AuditLog>(
      ctx, &v1::Toolstack::Stub::GetAudit, request,
      [&](const v1::AuditLog& log) {
        TextTable table({"SEQ", "TIME", "SOURCE", "TARGET", "PERMISSION",
                         "HOOK"});
        for (const v1::Denial& d : log.denials()) {
          table.AddRow(
              {absl::StrCat(d.sequence()),
               absl::FormatTime("%H:%M:%E3S", absl::FromUnixNanos(d.unix_nanos()),
                                absl::UTCTimeZone()),
               absl::StrCat(d.source(), " (", d.source_type(), ")"),
               absl::StrCat(d.target(), " (", d.target_type(), ")"),
               d.permission(), d.hook()});
        }
        table.Print(ctx.out());
        ctx.out() << log.total() << " denials since start\n";
      });
}

}  // namespace

std::vector<Command> PolicyCommands() {
  return {
      {"policy load", "FILE|@default", "replace the policy (argo.policy.v1 text)",
       "Atomic: a bad file changes nothing and the error names its line.\n"
       "@default loads the embedded default policy (any domain may do "
       "anything). An empty file or a directory is refused, never read as "
       "'no policy'.",
       {{}, {}, 1, 1}, Load},
      {"policy show", "", "print the policy in force", "", {}, Show},
      {"policy relabel", "DOMAIN TYPE", "give DOMAIN the policy type TYPE", "",
       {{}, {}, 2, 2}, Relabel},
      {"policy audit", "[--max N] [--page-size N]",
       "recent denials (at most 1024 are kept)",
       "  --max N        the N most recent (default all kept)\n" +
           std::string(kPageSizeHelp),
       {{"max", "page-size"}, {}, 0, 0}, Audit},
  };
}

}  // namespace argo::toolstack::cli
