// argoctl rings | stats | watch | topology | apply
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "toolstack_api/cli/command.h"
#include "toolstack_api/cli/text_table.h"
#include "toolstack_api/config_file.h"
#include "toolstack_api/endpoint_text.h"

namespace argo::toolstack::cli {
namespace {

// "domain_created, domain_destroyed, ...": every kind --kind accepts, from
// the .proto, so a kind added there is listed (and parsed) here at once.
std::string KindNames() {
  const google::protobuf::EnumDescriptor* kinds = v1::Event::Kind_descriptor();
  std::vector<std::string> names;
  for (int i = 0; i < kinds->value_count(); ++i) {
    if (kinds->value(i)->number() == v1::Event::KIND_UNSPECIFIED) continue;
    names.push_back(absl::AsciiStrToLower(kinds->value(i)->name()));
  }
  return absl::StrJoin(names, ", ");
}

int ListRings(Context& ctx, const Args& args) {
  v1::ListRingsRequest request;
  if (!args.positional.empty()) {
    *request.mutable_domain() = DomainArg(args.positional[0]);
  }
  request.set_page_size(PageSizeArg(args));
  return Listing<v1::ListRingsRequest, v1::ListRingsResponse>(
      ctx, &v1::Toolstack::Stub::ListRings, request,
      [&](const v1::ListRingsResponse& r) {
        TextTable table({"OWNER", "PORT", "PARTNER", "LEN", "USED", "WAITERS",
                         "MSGS_IN", "BYTES_IN", "EAGAIN"});
        for (const v1::Ring& ring : r.rings()) {
          table.AddRow(
              {RingOwner(ring),
               absl::StrCat(ring.port()),
               ring.wildcard() ? std::string("any")
                               : absl::StrCat(ring.partner()),
               absl::StrCat(ring.len()), absl::StrCat(ring.bytes_used()),
               absl::StrCat(ring.waiters()), absl::StrCat(ring.messages_in()),
               absl::StrCat(ring.bytes_in()), absl::StrCat(ring.eagain())});
        }
        table.Print(ctx.out());
      });
}

int Stats(Context& ctx, const Args&) {
  return Unary<v1::GetStatsRequest, v1::Stats>(
      ctx, &v1::Toolstack::Stub::GetStats, v1::GetStatsRequest(),
      [&](const v1::Stats& s) {
        std::ostream& out = ctx.out();
        out << "domains: " << s.domains() << "  rings: " << s.rings()
            << "  cables: " << s.cables() << "  denials: " << s.denials()
            << "\n";
        for (const auto& [permission, count] : s.denials_by_permission()) {
          out << "  denied " << permission << ": " << count << "\n";
        }
        TextTable table({"DOMAIN", "SENT", "BYTES_SENT", "RECEIVED",
                         "BYTES_RECEIVED", "EAGAIN", "DENIED"});
        for (const v1::Domain& d : s.per_domain()) {
          const v1::DomainCounters& c = d.counters();
          table.AddRow({d.name(), absl::StrCat(c.messages_sent()),
                        absl::StrCat(c.bytes_sent()),
                        absl::StrCat(c.messages_received()),
                        absl::StrCat(c.bytes_received()),
                        absl::StrCat(c.eagain()), absl::StrCat(c.denials())});
        }
        table.Print(out);
        const v1::NestingCounters& n = s.nesting();
        out << "nesting: up_forwarded " << n.up_forwarded() << "  up_refused "
            << n.up_refused() << "  down_wrapped " << n.down_wrapped()
            << "  loops " << n.loops() << "\n";
        if (s.has_parent_link()) {
          const v1::ParentLinkCounters& p = s.parent_link();
          out << "parent link: up_sent " << p.up_sent() << "  up_refused "
              << p.up_refused() << "  down_delivered " << p.down_delivered()
              << "  down_blocked " << p.down_blocked() << "\n"
              << "  dropped: no_cable " << p.dropped_no_cable()
              << "  refused " << p.dropped_refused() << "  malformed "
              << p.dropped_malformed() << "  loop " << p.dropped_loop()
              << "\n";
        }
      });
}

int Watch(Context& ctx, const Args& args) {
  v1::WatchRequest request;
  auto it = args.values.find("kind");
  if (it != args.values.end()) {
    for (const std::string& name : it->second) {
      v1::Event::Kind kind;
      if (!v1::Event::Kind_Parse(absl::AsciiStrToUpper(name), &kind) ||
          kind == v1::Event::KIND_UNSPECIFIED) {
        throw UsageError{
            absl::StrCat("unknown event kind ", name, " (", KindNames(), ")")};
      }
      request.add_kinds(kind);
    }
  }
  if (!args.Value("domain").empty()) {
    *request.mutable_domain() = DomainArg(args.Value("domain"));
  }
  uint64_t count = 0;  // 0: until the deadline
  if (!args.Value("count").empty() &&
      !absl::SimpleAtoi(args.Value("count"), &count)) {
    throw UsageError{"--count takes a number"};
  }
  double seconds = 86400;
  if (!args.Value("for").empty() &&
      (!absl::SimpleAtod(args.Value("for"), &seconds) || seconds <= 0)) {
    throw UsageError{"--for takes a positive number of seconds"};
  }
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(seconds)));
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader =
      ctx.stub().Watch(&call, request);
  // Subscribed once the headers arrive: say so, for scripts that then act.
  reader->WaitForInitialMetadata();
  if (!ctx.json()) ctx.err() << "argoctl: watching\n";
  v1::Event event;
  uint64_t seen = 0;
  while ((count == 0 || seen < count) && reader->Read(&event)) {
    ++seen;
    if (ctx.json()) {
      ctx.PrintJson(event, /*one_line=*/true);
    } else {
      ctx.out() << absl::FormatTime("%H:%M:%E3S",
                                    absl::FromUnixNanos(event.unix_nanos()),
                                    absl::UTCTimeZone())
                << "  " << absl::AsciiStrToLower(v1::Event::Kind_Name(event.kind()))
                << "  " << event.summary() << "\n";
    }
    ctx.out().flush();
  }
  if (count != 0 && seen == count) {
    call.TryCancel();
    reader->Finish().IgnoreError();
    return kOk;
  }
  grpc::Status status = reader->Finish();
  // Running out the --for window is how a bounded watch ends.
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      !args.Value("for").empty()) {
    return kOk;
  }
  return status.ok() ? kOk : ctx.Failed(status);
}

int Topology(Context& ctx, const Args&) {
  return Unary<v1::GetTopologyRequest, v1::Topology>(
      ctx, &v1::Toolstack::Stub::GetTopology, v1::GetTopologyRequest(),
      [&](const v1::Topology& t) {
        ctx.out() << "level:    " << t.level() << "\n"
                  << "role:     "
                  << (t.role() == v1::Topology::CHILD ? "child" : "root")
                  << "\n"
                  << "parent:   " << (t.parent().empty() ? "(none)" : t.parent())
                  << "\n";
        if (!t.parent().empty()) {
          ctx.out() << "domid at parent: " << t.domid_at_parent() << "\n";
        }
        if (t.has_parent_link()) {
          const v1::ParentLink& p = t.parent_link();
          ctx.out() << "parent link: domain " << p.domain() << " (id "
                    << p.domid() << " in the parent), " << p.cpus()
                    << (p.cpus() == 1 ? " cpu, " : " cpus, ")
                    << (p.state() == v1::ParentLink::LOST
                            ? "lost (sends up get ECONNREFUSED)"
                            : "connected")
                    << "\n";
        }
        ctx.out() << "children: "
                  << (t.children().empty()
                          ? std::string("(none)")
                          : absl::StrJoin(t.children(), ", "))
                  << "\n";
        ctx.out() << "attach:   "
                  << (t.attach_socket().empty() ? std::string("(not served)")
                                                : t.attach_socket())
                  << "\n";
        if (t.child_levels().empty()) return;
        ctx.out() << "child levels:\n";
        TextTable table({"NAME", "ID", "CPUS", "STATE"});
        for (const v1::ChildLevel& c : t.child_levels()) {
          table.AddRow({c.name(), absl::StrCat(c.id()), absl::StrCat(c.cpus()),
                        c.state() == v1::Domain::RUNNING ? "running"
                                                         : "not attached"});
        }
        table.Print(ctx.out());
      });
}

int Apply(Context& ctx, const Args& args) {
  absl::StatusOr<ConfigFile> file = LoadConfigFile(args.positional[0]);
  if (!file.ok()) {
    ctx.err() << "argoctl: " << file.status().message() << "\n";
    return kUsageError;
  }
  v1::ApplyRequest request;
  request.set_config_text(file->text);
  request.set_policy_file_text(file->policy_text);
  request.set_name(args.positional[0]);
  return Unary<v1::ApplyRequest, v1::ApplyResponse>(
      ctx, &v1::Toolstack::Stub::Apply, request,
      [&](const v1::ApplyResponse& r) {
        for (const v1::Domain& d : r.created()) {
          ctx.out() << "created domain " << d.name() << " (id " << d.id()
                    << ", " << d.label() << ")\n";
        }
        for (const v1::Cable& c : r.installed()) {
          ctx.out() << "cabled " << FormatEndpoint(c.from()) << " -> "
                    << FormatEndpoint(c.to()) << "\n";
        }
      });
}

}  // namespace

std::vector<Command> LevelCommands() {
  return {
      {"rings", "[DOMAIN] [--page-size N]", "list rings: an ss for Argo",
       "Columns: owner, port, partner (or any), length, bytes in use, "
       "waiting senders, messages and bytes received, EAGAIN refusals.\n" +
           std::string(kPageSizeHelp),
       {{"page-size"}, {}, 0, 1}, ListRings},
      {"stats", "", "level and per-domain statistics",
       "Then the nesting counters (docs/toolstack.md, Nesting): the\n"
       "hypervisor's (sends forwarded to and refused by the parent, messages\n"
       "wrapped for child levels, path loops) and, for a level with a parent,\n"
       "its link's (sent up, refused, delivered down, waits on full rings,\n"
       "and what came down and was dropped, by reason).",
       {}, Stats},
      {"watch", "[--kind KIND]... [--domain DOMAIN] [--count N] [--for SECONDS]",
       "stream events as they happen",
       "KIND: " + KindNames() + ".\n"
       "  --count N      stop after N events\n"
       "  --for SECONDS  stop after SECONDS (default one day)\n"
       "With --json, one JSON object per line.\n"
       "Ring and denial events are rate limited per domain and kind (bursts "
       "of 100, then 50/s): what a flood holds back is reported once a "
       "second by a summary line (\"suppressed N ... events from dom D\"; "
       "field suppressed in --json).",
       {{"kind", "domain", "count", "for"}, {}, 0, 0}, Watch},
      {"topology", "", "this level's place among hypervisors",
       "Its role (root, or child of a parent: argo-hv --parent), the link to\n"
       "the parent (its attach socket, this level's domain and id there, the\n"
       "receive buffers, connected or lost), where guest processes attach\n"
       "(the attach socket) and the child levels: domains here whose process\n"
       "attached as a level (running, or not attached since it went).",
       {}, Topology},
      {"apply", "CONFIG", "apply a boot configuration (all or nothing)",
       "CONFIG: argo.config.v1 text format (see configs/). A policy_file in "
       "it is read here, relative to CONFIG. A bad file changes nothing and "
       "the error names its line and field.",
       {{}, {}, 1, 1}, Apply},
  };
}

}  // namespace argo::toolstack::cli
