// argo-guest send and listen.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "guest/cli/command.h"
#include "guest/cli/message_text.h"
#include "guest/errors.h"

namespace argo::guest::cli {
namespace {

struct SendPlan {
  xen_argo_port_t port = 0;
  xen_argo_addr_t dst = kImplicitDestination;
  std::string payload;
  uint32_t count = 1;
  uint32_t type = 0;
};

// Checks every argument of `send`; the payload comes from exactly one of
// MESSAGE, --file or --size.
absl::StatusOr<SendPlan> PlanSend(const Args& args) {
  SendPlan plan;
  if (!args.Has("--port"))
    return absl::InvalidArgumentError("send: --port P is required");
  absl::StatusOr<xen_argo_port_t> port =
      ParsePort("--port", args.Value("--port"));
  if (!port.ok()) return port.status();
  plan.port = *port;
  if (args.Has("--to")) {
    absl::StatusOr<xen_argo_addr_t> dst =
        ParseDestination("--to", args.Value("--to"));
    if (!dst.ok()) return dst.status();
    plan.dst = *dst;
  }
  for (const char* name : {"--count", "--type"}) {
    if (!args.Has(name)) continue;
    absl::StatusOr<uint32_t> v = ParseU32(name, args.Value(name));
    if (!v.ok()) return v.status();
    (std::string(name) == "--count" ? plan.count : plan.type) = *v;
  }
  const int sources =
      (args.positional.size() == 1) + args.Has("--file") + args.Has("--size");
  if (args.positional.size() > 1 || sources != 1) {
    return absl::InvalidArgumentError(
        "send: give exactly one of MESSAGE, --file F or --size S");
  }
  if (args.positional.size() == 1) {
    plan.payload = args.positional[0];
  } else if (args.Has("--file")) {
    std::ifstream in(args.Value("--file"), std::ios::binary);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("--file: cannot read ", args.Value("--file")));
    }
    std::stringstream bytes;
    bytes << in.rdbuf();
    plan.payload = bytes.str();
  } else {
    absl::StatusOr<uint32_t> size = ParseU32("--size", args.Value("--size"));
    if (!size.ok()) return size.status();
    if (*size > XEN_ARGO_MAX_RING_SIZE) {
      return absl::InvalidArgumentError("--size: at most 16 MiB");
    }
    plan.payload.resize(*size);
    for (uint32_t i = 0; i < *size; ++i) plan.payload[i] = 'a' + i % 26;
  }
  return plan;
}

int RunSend(Context& ctx, const Args& args) {
  absl::StatusOr<SendPlan> plan = PlanSend(args);
  if (!plan.ok()) return ctx.Usage(std::string(plan.status().message()));
  Guest* guest = ctx.Attach();
  if (guest == nullptr) return kUnreachable;
  const absl::Span<const uint8_t> data(
      reinterpret_cast<const uint8_t*>(plan->payload.data()),
      plan->payload.size());
  for (uint32_t i = 0; i < plan->count; ++i) {
    absl::StatusOr<uint32_t> sent =
        guest->Send(plan->port, plan->dst, data, plan->type);
    if (!sent.ok() && XenErrnoOf(sent.status()) == XEN_EAGAIN) {
      if (ctx.verbose()) {
        ErrorContext c;
        c.op = GuestOp::kSend;
        c.waiting = true;
        ctx.err() << "argo-guest: " << DescribeXenError(XEN_EAGAIN, c) << "\n";
      }
      sent = guest->SendWaitingForSpace(plan->port, plan->dst, data, plan->type,
                                        ctx.timeout());
    }
    if (!sent.ok()) return ctx.Fail(sent.status());
    if (ctx.verbose()) {
      ctx.err() << "argo-guest: sent " << *sent << " bytes\n";
    }
  }
  return kOk;
}

int RunListen(Context& ctx, const Args& args) {
  if (!args.Has("--port")) return ctx.Usage("listen: --port P is required");
  absl::StatusOr<xen_argo_port_t> port =
      ParsePort("--port", args.Value("--port"));
  absl::StatusOr<domid_t> from =
      ParsePartner("--from", args.Value("--from", "any"));
  absl::StatusOr<uint32_t> count =
      ParseU32("--count", args.Value("--count", "0"));
  absl::StatusOr<uint32_t> ring_size =
      ParseU32("--ring-size", args.Value("--ring-size", "65536"));
  for (const absl::Status& s :
       {port.status(), from.status(), count.status(), ring_size.status()}) {
    if (!s.ok()) return ctx.Usage(std::string(s.message()));
  }
  if (!args.positional.empty()) return ctx.Usage("listen takes no MESSAGE");
  Guest* guest = ctx.Attach();
  if (guest == nullptr) return kUnreachable;
  absl::StatusOr<GuestRing*> ring =
      guest->RegisterRing(*port, *from, *ring_size);
  if (!ring.ok()) return ctx.Fail(ring.status());
  if (ctx.verbose()) {
    ctx.err() << "argo-guest: listening on " << guest->domid() << ":" << *port
              << "\n";
  }
  const bool json = args.Flag("--json");
  uint32_t seen = 0;
  for (;;) {
    absl::StatusOr<int> read =
        DrainRing(*guest, *ring, [&](ReceivedMessage& m) {
          ctx.out() << (json ? JsonLine(m) : HumanLine(m)) << std::endl;
          ++seen;
          return *count == 0 || seen < *count;
        });
    if (!read.ok()) return ctx.Fail(read.status());
    if (*count != 0 && seen >= *count) return kOk;
    // After a drain, a VIRQ means a message (or a wake-up) came since.
    absl::StatusOr<bool> raised = guest->WaitVirq(absl::InfiniteDuration());
    if (!raised.ok()) return ctx.Fail(raised.status());
  }
}

}  // namespace

std::vector<Command> SendListenCommands() {
  return {
      Command{
          "send",
          "--port P [--to D:Q] [MESSAGE | --file F | --size S] [--count N] "
          "[--type T]",
          "Sends from this domain's port P to domain D's port Q, or, without\n"
          "--to, to wherever the toolstack cabled port P (the implicit\n"
          "destination). D is a domid: names belong to the toolstack.\n"
          "The payload is MESSAGE, the bytes of file F, or S generated bytes;\n"
          "--count sends it N times. A full ring is waited out (asking the\n"
          "hypervisor for space, woken by VIRQ) for up to --timeout.\n",
          OptionSpec{
              {"--port", "--to", "--file", "--count", "--size", "--type"}, {}},
          RunSend,
      },
      Command{
          "listen",
          "--port P [--from D|any] [--count N] [--json] [--ring-size BYTES]",
          "Registers a ring on port P taking messages from domain D (default\n"
          "any: a wildcard ring) and prints each message: source, type,\n"
          "length and payload (text if printable, else hex), or one JSON\n"
          "object per line with --json. Exits after N messages (default:\n"
          "never). Notifies after each read so waiting senders wake up.\n"
          "A message that crossed hypervisor levels is printed with its\n"
          "path, nearest hop first, and its original type and payload:\n"
          "  from parent:7 path dom3:100/dom5:20 type 9 len 5: hello\n"
          "(--json: \"path\":[{\"domid\":3,\"port\":100},...] and\n"
          "\"dst_port\"). One whose path block is malformed is printed as\n"
          "received, marked \"malformed path block\" (--json:\n"
          "\"malformed_path\":true).\n"
          "A ring --from D is torn down when D's guest process detaches (a\n"
          "crash reset, as Xen's argo_soft_reset): for senders that come and\n"
          "go, such as one-shot `argo-guest send`, listen --from any.\n",
          OptionSpec{{"--port", "--from", "--count", "--ring-size"},
                     {"--json"}},
          RunListen,
      },
  };
}

}  // namespace argo::guest::cli
