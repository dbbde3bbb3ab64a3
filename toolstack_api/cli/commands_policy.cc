// argoctl policy load | show | relabel | audit | modules |
// module add|enable|disable | check | why | suggest
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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
  out << "policy generation " << p.generation()
      << "; types: " << absl::StrJoin(p.types(), ", ");
  if (!p.enabled_modules().empty()) {
    out << "; modules: " << absl::StrJoin(p.enabled_modules(), ", ");
  }
  if (p.silo()) out << "; SILO mode";
  out << "\n";
}

int Modules(Context& ctx, const Args&) {
  return Unary<v1::ListPolicyModulesRequest, v1::ListPolicyModulesResponse>(
      ctx, &v1::Toolstack::Stub::ListPolicyModules,
      v1::ListPolicyModulesRequest(),
      [&](const v1::ListPolicyModulesResponse& r) {
        TextTable table({"NAME", "ENABLED", "SOURCE", "FILE", "TYPES"});
        for (const v1::PolicyModule& m : r.modules()) {
          table.AddRow({m.name(), m.enabled() ? "yes" : "no", m.source(),
                        m.file(),
                        m.types().empty() ? std::string("-")
                                          : absl::StrJoin(m.types(), ",")});
        }
        table.Print(ctx.out());
        if (!r.modular()) {
          ctx.out() << "(the policy in force is a whole policy, not "
                       "assembled from modules)\n";
        }
      });
}

// The file's name without its directories and last extension:
// "a/logger.textproto" -> "logger".
std::string Stem(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  const size_t dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

int ModuleAdd(Context& ctx, const Args& args) {
  const std::string& file = args.positional[0];
  absl::StatusOr<std::string> text = ReadTextFile(file, TextKind::kPolicy);
  if (!text.ok()) throw UsageError{std::string(text.status().message())};
  v1::AddPolicyModuleRequest request;
  request.set_name(Stem(file));
  request.set_file(file.substr(file.find_last_of('/') + 1));
  request.set_text(*std::move(text));
  return Unary<v1::AddPolicyModuleRequest, v1::PolicyModule>(
      ctx, &v1::Toolstack::Stub::AddPolicyModule, request,
      [&](const v1::PolicyModule& m) {
        ctx.out() << "added policy module " << m.name() << " (" << m.file()
                  << "; types: "
                  << (m.types().empty() ? std::string("none")
                                        : absl::StrJoin(m.types(), ", "))
                  << "); not enabled: argoctl policy module enable " << m.name()
                  << "\n";
      });
}

int ModuleSwitch(Context& ctx, const Args& args, bool enable) {
  v1::PolicyModuleRequest request;
  request.set_name(args.positional[0]);
  return Unary<v1::PolicyModuleRequest, v1::PolicyInfo>(
      ctx,
      enable ? &v1::Toolstack::Stub::EnablePolicyModule
             : &v1::Toolstack::Stub::DisablePolicyModule,
      request, [&](const v1::PolicyInfo& p) {
        ctx.out() << (enable ? "enabled " : "disabled ") << args.positional[0]
                  << ": ";
        PrintPolicySummary(ctx.out(), p);
      });
}

// One end of `policy check`: a type iff --types, or (without --domains)
// it ends in "_t"; else a domain by name or id.
bool IsTypeArg(const Args& args, const std::string& text) {
  if (args.Flag("types")) return true;
  if (args.Flag("domains")) return false;
  return absl::EndsWith(text, "_t");
}

// Exit codes like grep: 0 allowed, 1 denied, 2 a usage error or a refusal
// (unknown domain or type), 3 unreachable.
int Check(Context& ctx, const Args& args) {
  if (args.Flag("types") && args.Flag("domains")) {
    throw UsageError{"--types and --domains: one or the other"};
  }
  const std::string& src = args.positional[0];
  const std::string& dst = args.positional[1];
  v1::CheckPermissionRequest request;
  if (IsTypeArg(args, src)) {
    request.set_source_type(src);
  } else {
    *request.mutable_source_domain() = DomainArg(src);
  }
  if (dst == "xen") {
    request.set_target_xen(true);
  } else if (IsTypeArg(args, dst)) {
    request.set_target_type(dst);
  } else {
    *request.mutable_target_domain() = DomainArg(dst);
  }
  request.set_permission(absl::AsciiStrToUpper(args.positional[2]));
  v1::CheckPermissionResponse reply;
  std::unique_ptr<grpc::ClientContext> call = ctx.Call();
  grpc::Status status = ctx.stub().CheckPermission(call.get(), request, &reply);
  if (!status.ok()) {
    const int code = ctx.Failed(status);
    return code == kServerError ? kUsageError : code;
  }
  if (ctx.json()) {
    ctx.PrintJson(reply);
  } else {
    ctx.out() << (reply.allowed() ? "allowed" : "denied") << ": "
              << reply.decided_by() << "\n";
  }
  return reply.allowed() ? kOk : kServerError;
}

int Why(Context& ctx, const Args&) {
  return Unary<v1::ExplainDenialsRequest, v1::DenialExplanations>(
      ctx, &v1::Toolstack::Stub::ExplainDenials, v1::ExplainDenialsRequest(),
      [&](const v1::DenialExplanations& r) {
        for (const v1::DenialExplanation& e : r.explanations()) {
          ctx.out() << "#" << e.denial().sequence() << " " << e.summary()
                    << "\n  missing: " << e.missing() << "\n  rule:    "
                    << (e.rule().empty() ? std::string("(none can allow it)")
                                         : e.rule())
                    << "\n";
        }
        ctx.out() << r.explanations_size()
                  << (r.explanations_size() == 1 ? " denial" : " denials")
                  << " explained\n";
      });
}

int Suggest(Context& ctx, const Args&) {
  return Unary<v1::SuggestRulesRequest, v1::SuggestedRules>(
      ctx, &v1::Toolstack::Stub::SuggestRules, v1::SuggestRulesRequest(),
      [&](const v1::SuggestedRules& r) {
        ctx.out() << "# " << r.denials()
                  << " audited denials considered; review before adding to "
                     "a module (nothing was loaded)\n"
                  << (r.text().empty() ? std::string("# nothing to suggest\n")
                                       : r.text());
      });
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
        ctx.out() << "domain " << d.name() << " (id " << d.id() << ") is now "
                  << d.label() << "\n";
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
        TextTable table(
            {"SEQ", "TIME", "SOURCE", "TARGET", "PERMISSION", "HOOK"});
        for (const v1::Denial& d : log.denials()) {
          table.AddRow({absl::StrCat(d.sequence()),
                        absl::FormatTime("%H:%M:%E3S",
                                         absl::FromUnixNanos(d.unix_nanos()),
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
      {"policy load",
       "FILE|@default",
       "replace the policy (argo.policy.v1 text)",
       "Atomic: a bad file changes nothing and the error names its line.\n"
       "@default loads the embedded default policy (any domain may do "
       "anything). An empty file or a directory is refused, never read as "
       "'no policy'.",
       {{}, {}, 1, 1},
       Load},
      {"policy show", "", "print the policy in force", "", {}, Show},
      {"policy relabel",
       "DOMAIN TYPE",
       "give DOMAIN the policy type TYPE",
       "",
       {{}, {}, 2, 2},
       Relabel},
      {"policy audit",
       "[--max N] [--page-size N]",
       "recent denials (at most 1024 are kept)",
       "  --max N        the N most recent (default all kept)\n" +
           std::string(kPageSizeHelp),
       {{"max", "page-size"}, {}, 0, 0},
       Audit},
      {"policy modules",
       "",
       "list the policy modules",
       "Columns: name, enabled, source (shipped in the binary, or added with "
       "policy module add), the file rule origins name, the types it "
       "declares.",
       {},
       Modules},
      {"policy module add",
       "FILE",
       "register a policy module (not enabled)",
       "FILE: a module (argo.policy.v1 text) named after the file's stem "
       "(logger.textproto -> logger). Refused if it does not parse or the "
       "name is taken.",
       {{}, {}, 1, 1},
       ModuleAdd},
      {"policy module enable",
       "NAME",
       "assemble and load with NAME",
       "Assembles core + the enabled modules + NAME and loads the result; a "
       "conflict is refused whole with its file:line and nothing changes. "
       "From a whole policy, enabling starts from core alone.",
       {{}, {}, 1, 1},
       [](Context& ctx, const Args& args) {
         return ModuleSwitch(ctx, args, true);
       }},
      {"policy module disable",
       "NAME",
       "assemble and load without NAME",
       "core cannot be disabled (policy load leaves modular mode).",
       {{}, {}, 1, 1},
       [](Context& ctx, const Args& args) {
         return ModuleSwitch(ctx, args, false);
       }},
      {"policy check",
       "SRC DST PERM [--types|--domains]",
       "is PERM allowed from SRC to DST, and what decided",
       "SRC, DST: domains (name or id) or types. A word ending in _t is a "
       "type unless --domains; --types makes both types. DST may be xen (the "
       "hypervisor). Both domains: labels, capabilities and SILO decide as "
       "the hypervisor would; both types: the rules only.\n"
       "PERM: ENABLE, REGISTER_SINGLE_SOURCE, REGISTER_ANY_SOURCE, SEND or "
       "SEND_EXPLICIT.\n"
       "Exit code like grep: 0 allowed, 1 denied, 2 usage error or refusal "
       "(unknown domain or type), 3 unreachable.",
       {{}, {"types", "domains"}, 3, 3},
       Check},
      {"policy why",
       "",
       "explain each audited denial",
       "For each denial in the audit log: what was missing and the smallest "
       "allow rule that would allow it (audit2why).",
       {},
       Why},
      {"policy suggest",
       "",
       "allow rules for the audited denials",
       "Prints text-format allow rules that would allow the audited denials "
       "(audit2allow), for review; nothing is loaded.",
       {},
       Suggest},
  };
}

}  // namespace argo::toolstack::cli
