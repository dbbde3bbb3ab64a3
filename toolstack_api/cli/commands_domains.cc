// argoctl domains | domain create | domain destroy | domain show |
// domain token
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "toolstack_api/cli/command.h"
#include "toolstack_api/cli/text_table.h"
#include "toolstack_api/endpoint_text.h"

namespace argo::toolstack::cli {
namespace {

std::string StateName(v1::Domain::State state) {
  return absl::AsciiStrToLower(v1::Domain::State_Name(state));
}

std::string Memory(uint64_t frames) {
  const uint64_t kib = frames * 4;
  return kib % 1024 == 0 ? absl::StrCat(kib / 1024, "M")
                         : absl::StrCat(kib, "K");
}

// The attached guest's pid, "-" when none (state created).
std::string Pid(const v1::Domain& d) {
  return d.attached_pid() == 0 ? std::string("-")
                               : absl::StrCat(d.attached_pid());
}

// "xenstore,control"; "-" for none.
std::string Caps(const v1::Domain& d) {
  return d.capabilities().empty() ? std::string("-")
                                  : absl::StrJoin(d.capabilities(), ",");
}

void PrintDomainTable(
    std::ostream& out,
    const google::protobuf::RepeatedPtrField<v1::Domain>& ds) {
  TextTable table({"ID", "NAME", "LABEL", "CAPS", "STATE", "PID", "MEMORY",
                   "RINGS", "SENT", "RECEIVED", "EAGAIN", "DENIED"});
  for (const v1::Domain& d : ds) {
    table.AddRow({absl::StrCat(d.id()), d.name(), d.label(), Caps(d),
                  StateName(d.state()), Pid(d), Memory(d.memory_frames()),
                  absl::StrCat(d.ring_count()),
                  absl::StrCat(d.counters().messages_sent()),
                  absl::StrCat(d.counters().messages_received()),
                  absl::StrCat(d.counters().eagain()),
                  absl::StrCat(d.counters().denials())});
  }
  table.Print(out);
}

void PrintDomain(std::ostream& out, const v1::Domain& d) {
  const v1::DomainCounters& c = d.counters();
  out << "id:        " << d.id() << "\n"
      << "name:      " << d.name() << "\n"
      << "label:     " << d.label() << "\n"
      << "caps:      " << Caps(d) << "\n"
      << "state:     " << StateName(d.state()) << "\n"
      << "pid:       " << Pid(d) << "\n"
      << "memory:    " << Memory(d.memory_frames()) << " (" << d.memory_frames()
      << " frames)\n"
      << "argo:      " << (d.argo_enabled() ? "enabled" : "disabled") << "\n"
      << "rings:     " << d.ring_count() << "\n"
      << "sent:      " << c.messages_sent() << " messages, " << c.bytes_sent()
      << " bytes, " << c.eagain() << " EAGAIN\n"
      << "received:  " << c.messages_received() << " messages, "
      << c.bytes_received() << " bytes\n"
      << "denials:   " << c.denials() << "\n";
}

int ListDomains(Context& ctx, const Args& args) {
  v1::ListDomainsRequest request;
  request.set_page_size(PageSizeArg(args));
  return Listing<v1::ListDomainsRequest, v1::ListDomainsResponse>(
      ctx, &v1::Toolstack::Stub::ListDomains, request,
      [&](const v1::ListDomainsResponse& r) {
        PrintDomainTable(ctx.out(), r.domains());
      });
}

int CreateDomain(Context& ctx, const Args& args) {
  v1::CreateDomainRequest request;
  request.set_name(args.positional[0]);
  if (!args.Value("id").empty()) {
    uint32_t id = 0;
    if (!absl::SimpleAtoi(args.Value("id"), &id)) {
      throw UsageError{"--id takes a number"};
    }
    request.set_id(id);
  }
  if (!args.Value("memory").empty()) {
    uint64_t frames = 0;
    if (!absl::SimpleAtoi(args.Value("memory"), &frames) || frames == 0) {
      throw UsageError{"--memory takes a positive number of 4 KiB frames"};
    }
    request.set_memory_frames(frames);
  }
  request.set_label(args.Value("label"));
  request.set_argo_disabled(args.Flag("no-argo"));
  // --cap A --cap B or --cap A,B; the daemon checks the names.
  auto caps = args.values.find("cap");
  if (caps != args.values.end()) {
    for (const std::string& value : caps->second) {
      for (absl::string_view cap : absl::StrSplit(value, ',')) {
        if (cap.empty()) throw UsageError{"--cap takes a capability name"};
        request.add_capabilities(std::string(cap));
      }
    }
  }
  return Unary<v1::CreateDomainRequest, v1::CreateDomainResponse>(
      ctx, &v1::Toolstack::Stub::CreateDomain, request,
      [&](const v1::CreateDomainResponse& r) {
        ctx.out() << "created domain " << r.domain().name() << " (id "
                  << r.domain().id() << ", label " << r.domain().label()
                  << (r.domain().capabilities().empty()
                          ? std::string()
                          : absl::StrCat(", capabilities ", Caps(r.domain())))
                  << ")\nattach token: " << r.attach_token() << "\n";
      });
}

int DestroyDomain(Context& ctx, const Args& args) {
  v1::DestroyDomainRequest request;
  *request.mutable_domain() = DomainArg(args.positional[0]);
  return Unary<v1::DestroyDomainRequest, v1::DestroyDomainResponse>(
      ctx, &v1::Toolstack::Stub::DestroyDomain, request,
      [&](const v1::DestroyDomainResponse&) {
        ctx.out() << "destroyed domain " << args.positional[0] << "\n";
      });
}

int ShowDomain(Context& ctx, const Args& args) {
  v1::GetDomainRequest request;
  *request.mutable_domain() = DomainArg(args.positional[0]);
  return Unary<v1::GetDomainRequest, v1::Domain>(
      ctx, &v1::Toolstack::Stub::GetDomain, request,
      [&](const v1::Domain& d) { PrintDomain(ctx.out(), d); });
}

// Prints the bare token on a line of its own, so a script can take it
// with $(argoctl domain token NAME).
int IssueToken(Context& ctx, const Args& args) {
  v1::IssueAttachTokenRequest request;
  *request.mutable_domain() = DomainArg(args.positional[0]);
  return Unary<v1::IssueAttachTokenRequest, v1::IssueAttachTokenResponse>(
      ctx, &v1::Toolstack::Stub::IssueAttachToken, request,
      [&](const v1::IssueAttachTokenResponse& r) {
        ctx.out() << r.attach_token() << "\n";
      });
}

}  // namespace

std::vector<Command> DomainCommands() {
  return {
      {"domains",
       "[--page-size N]",
       "list the domains",
       "Columns: id, name, policy label, capabilities (- for none), state "
       "(created; running while a "
       "guest process is attached), that process's pid, memory, rings "
       "registered, messages sent and received, sends refused with EAGAIN, "
       "operations the policy denied.\n" +
           std::string(kPageSizeHelp),
       {{"page-size"}, {}, 0, 0},
       ListDomains},
      {"domain create",
       "NAME [--id N] [--memory FRAMES] [--label TYPE] [--cap CAP]... "
       "[--no-argo]",
       "create a domain",
       "NAME: 1-64 of a-z 0-9 - _, starting with a letter or digit, not all "
       "digits, not \"parent\".\n"
       "  --id N           its domid (default: the lowest free id above 0)\n"
       "  --memory FRAMES  its memory in 4 KiB frames (default 256 = 1 MiB)\n"
       "  --label TYPE     its policy type (default: the policy's default)\n"
       "  --cap CAP        a capability: control, hardware or xenstore\n"
       "                   (repeat it, or a comma list). Set at creation "
       "only;\n"
       "                   only a SILO policy looks at them\n"
       "  --no-argo        create it without Argo\n"
       "Prints the attach token a guest process presents to run as it.",
       {{"id", "memory", "label", "cap"}, {"no-argo"}, 1, 1},
       CreateDomain},
      {"domain destroy",
       "DOMAIN",
       "destroy a domain",
       "DOMAIN: a name or an id. Its rings, waits, cables and label go with "
       "it.",
       {{}, {}, 1, 1},
       DestroyDomain},
      {"domain show",
       "DOMAIN",
       "show one domain",
       "DOMAIN: a name or an id.",
       {{}, {}, 1, 1},
       ShowDomain},
      {"domain token",
       "DOMAIN",
       "issue a new attach token",
       "DOMAIN: a name or an id. Prints a fresh attach token, the one a guest "
       "process presents to run as the domain (e.g. one the boot "
       "configuration created). The previous token stops working; a process "
       "already attached stays.",
       {{}, {}, 1, 1},
       IssueToken},
  };
}

}  // namespace argo::toolstack::cli
