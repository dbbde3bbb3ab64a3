// argoctl connect | disconnect | cables | explain
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "toolstack_api/cli/command.h"
#include "toolstack_api/cli/text_table.h"
#include "toolstack_api/endpoint_text.h"

namespace argo::toolstack::cli {
namespace {

void PrintCables(std::ostream& out, const char* verb,
                 const google::protobuf::RepeatedPtrField<v1::Cable>& cables) {
  for (const v1::Cable& c : cables) {
    out << verb << " " << FormatEndpoint(c.from()) << " -> "
        << FormatEndpoint(c.to()) << "\n";
  }
}

int Connect(Context& ctx, const Args& args) {
  v1::ConnectRequest request;
  *request.mutable_from() = EndpointArg(args.positional[0]);
  *request.mutable_to() = EndpointArg(args.positional[1]);
  request.set_one_way(args.Flag("one-way"));
  return Unary<v1::ConnectRequest, v1::ConnectResponse>(
      ctx, &v1::Toolstack::Stub::Connect, request,
      [&](const v1::ConnectResponse& r) {
        PrintCables(ctx.out(), "cabled", r.installed());
      });
}

int Disconnect(Context& ctx, const Args& args) {
  v1::DisconnectRequest request;
  *request.mutable_from() = EndpointArg(args.positional[0]);
  request.set_one_way(args.Flag("one-way"));
  return Unary<v1::DisconnectRequest, v1::DisconnectResponse>(
      ctx, &v1::Toolstack::Stub::Disconnect, request,
      [&](const v1::DisconnectResponse& r) {
        PrintCables(ctx.out(), "uncabled", r.removed());
      });
}

int ListCables(Context& ctx, const Args& args) {
  v1::ListCablesRequest request;
  if (!args.positional.empty()) {
    *request.mutable_domain() = DomainArg(args.positional[0]);
  }
  request.set_page_size(PageSizeArg(args));
  return Listing<v1::ListCablesRequest, v1::ListCablesResponse>(
      ctx, &v1::Toolstack::Stub::ListCables, request,
      [&](const v1::ListCablesResponse& r) {
        TextTable table({"FROM", "TO"});
        for (const v1::Cable& c : r.cables()) {
          table.AddRow({FormatEndpoint(c.from()), FormatEndpoint(c.to())});
        }
        table.Print(ctx.out());
      });
}

int Explain(Context& ctx, const Args& args) {
  v1::ExplainRequest request;
  *request.mutable_from() = EndpointArg(args.positional[0]);
  if (!args.Value("size").empty()) {
    uint32_t size = 0;
    if (!absl::SimpleAtoi(args.Value("size"), &size)) {
      throw UsageError{"--size takes a number of payload bytes"};
    }
    request.set_payload_bytes(size);
  }
  return Unary<v1::ExplainRequest, v1::Explanation>(
      ctx, &v1::Toolstack::Stub::Explain, request,
      [&](const v1::Explanation& e) {
        std::ostream& out = ctx.out();
        out << "route:   " << FormatEndpoint(e.from()) << " -> "
            << (e.has_to() ? FormatEndpoint(e.to()) : "(not cabled)") << "\n";
        if (e.has_ring()) {
          const v1::Ring& r = e.ring();
          out << "ring:    " << RingOwner(r)
              << ":" << r.port() << " ("
              << (r.wildcard() ? std::string("any sender")
                               : absl::StrCat("partner ", r.partner()))
              << ", " << r.len() << " bytes, " << r.bytes_used() << " used)\n";
        } else {
          out << "ring:    (none)\n";
        }
        out << "verdict: "
            << (e.delivered() ? std::string("delivered")
                              : absl::StrCat("refused with ", e.error(),
                                             " (", e.decided_by(), " check)"))
            << "\nreason:  " << e.reason() << "\n";
      });
}

}  // namespace

std::vector<Command> CableCommands() {
  return {
      {"connect", "FROM TO [--one-way]", "cable FROM's port to TO's port",
       "FROM, TO: DOMAIN:PORT (a name or an id), or parent:PORT for one of "
       "them (not both): the parent hypervisor's side of this level "
       "(docs/toolstack.md, Nesting).\n"
       "A guest then sends from FROM's port naming only that port "
       "(DOMID_IMPLICIT) and the hypervisor delivers to TO.\n"
       "  D:p parent:q   D's sends from p go up, as this level's sends from "
       "its port q in the parent; both ways: what the parent's cable sends "
       "to this level's port q comes down to D:p\n"
       "  parent:r D:p   what comes down on port r goes to D:p (with "
       "--one-way, only that)\n"
       "  --one-way  install FROM -> TO only (default: both ways)",
       {{}, {"one-way"}, 2, 2}, Connect},
      {"disconnect", "FROM [--one-way]", "remove FROM's cable",
       "Removes FROM's entry and the entry back to FROM, if it points back.\n"
       "  --one-way  remove FROM's entry only",
       {{}, {"one-way"}, 1, 1}, Disconnect},
      {"cables", "[DOMAIN] [--page-size N]",
       "list cables (those touching DOMAIN)",
       "One line per table entry: sends from FROM go to TO.\n" +
           std::string(kPageSizeHelp),
       {{"page-size"}, {}, 0, 1}, ListCables},
      {"explain", "DOMAIN:PORT [--size N]",
       "where would a send from DOMAIN:PORT go, and would it be allowed",
       "Answers with sendv's own decision (the hypervisor runs sendv's checks: "
       "cable, domain, policy, Argo, ring, size, space) without sending or "
       "auditing anything.\n"
       "  --size N  the payload in bytes (default 0): EMSGSIZE if the ring "
       "can never take it, EAGAIN if it cannot now",
       {{"size"}, {}, 1, 1}, Explain},
  };
}

}  // namespace argo::toolstack::cli
