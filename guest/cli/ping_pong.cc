// argo-guest ping and pong: round-trip latency between two guests, in
// microseconds and in CPUID units measured in the same process.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "guest/cli/command.h"
#include "guest/cli/cpuid_clock.h"

namespace argo::guest::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Common {
  xen_argo_port_t port = 0;
  uint32_t count = 0;
  uint32_t ring_size = 65536;
};

absl::Status ParseCommon(const Args& args, const std::string& count_default,
                         Common* c) {
  if (!args.Has("--port")) {
    return absl::InvalidArgumentError("--port P is required");
  }
  if (!args.positional.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", args.positional[0], "\""));
  }
  absl::StatusOr<xen_argo_port_t> port =
      ParsePort("--port", args.Value("--port"));
  absl::StatusOr<uint32_t> count =
      ParseU32("--count", args.Value("--count", count_default));
  absl::StatusOr<uint32_t> ring =
      ParseU32("--ring-size", args.Value("--ring-size", "65536"));
  for (const absl::Status& s : {port.status(), count.status(), ring.status()}) {
    if (!s.ok()) return s;
  }
  *c = Common{*port, *count, *ring};
  return absl::OkStatus();
}

// The message's sequence number sits in its first 4 bytes (when it has
// them), so a stale reply is not taken for the current one.
void Stamp(std::string* payload, uint32_t seq) {
  std::memcpy(payload->data(), &seq, std::min<size_t>(4, payload->size()));
}
bool Matches(const ReceivedMessage& m, const std::string& payload) {
  // Bytes, not chars: a stamp byte >= 0x80 is negative as a char.
  return m.payload.size() == payload.size() &&
         std::memcmp(m.payload.data(), payload.data(), payload.size()) == 0;
}

double Percentile(std::vector<double> sorted_us, double p) {
  const size_t i = static_cast<size_t>(p * (sorted_us.size() - 1) + 0.5);
  return sorted_us[std::min(i, sorted_us.size() - 1)];
}

void Report(Context& ctx, std::vector<double> rtt_us, uint32_t size,
            const std::string& to) {
  std::sort(rtt_us.begin(), rtt_us.end());
  const double cpuid_us = CpuidMedianNanos(1000) / 1000.0;
  ctx.out() << rtt_us.size() << " round trips of " << size << " bytes to " << to
            << "\n";
  const std::pair<const char*, double> rows[] = {
      {"p50", Percentile(rtt_us, 0.50)},
      {"p90", Percentile(rtt_us, 0.90)},
      {"p99", Percentile(rtt_us, 0.99)},
      {"max", rtt_us.back()},
  };
  for (const auto& [name, us] : rows) {
    ctx.out() << absl::StrFormat("%s %10.1f us", name, us);
    if (cpuid_us > 0)
      ctx.out() << absl::StrFormat(" %10.1f CPUID", us / cpuid_us);
    ctx.out() << "\n";
  }
  ctx.out() << absl::StrFormat("CPUID %.2f us (median of 1000, this process)\n",
                               cpuid_us);
}

int RunPing(Context& ctx, const Args& args) {
  Common c;
  if (absl::Status s = ParseCommon(args, "10", &c); !s.ok()) {
    return ctx.Usage(absl::StrCat("ping: ", s.message()));
  }
  xen_argo_addr_t dst = kImplicitDestination;
  if (args.Has("--to")) {
    absl::StatusOr<xen_argo_addr_t> to =
        ParseDestination("--to", args.Value("--to"));
    if (!to.ok()) return ctx.Usage(std::string(to.status().message()));
    dst = *to;
  }
  absl::StatusOr<uint32_t> size =
      ParseU32("--size", args.Value("--size", "64"));
  if (!size.ok()) return ctx.Usage(std::string(size.status().message()));
  if (c.count == 0) return ctx.Usage("ping: --count must be at least 1");
  Guest* guest = ctx.Attach();
  if (guest == nullptr) return kUnreachable;
  // Replies come from the peer named by --to; over a cable, from wherever
  // it leads, which this guest does not know: a wildcard ring.
  const bool implicit = dst.domain_id == ARGO_DOMID_IMPLICIT;
  absl::StatusOr<GuestRing*> ring = guest->RegisterRing(
      c.port, implicit ? XEN_ARGO_DOMID_ANY : dst.domain_id, c.ring_size);
  if (!ring.ok()) return ctx.Fail(ring.status());
  std::string payload(*size, 'p');
  std::vector<double> rtt_us;
  for (uint32_t seq = 0; seq < c.count; ++seq) {
    Stamp(&payload, seq);
    const absl::Span<const uint8_t> data(
        reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
    const Clock::time_point start = Clock::now();
    absl::StatusOr<uint32_t> sent =
        guest->SendWaitingForSpace(c.port, dst, data, 0, ctx.timeout());
    if (!sent.ok()) return ctx.Fail(sent.status());
    bool answered = false;
    const Clock::time_point deadline =
        start + absl::ToChronoNanoseconds(ctx.timeout());
    while (!answered) {
      absl::StatusOr<int> read =
          DrainRing(*guest, *ring, [&](ReceivedMessage& m) {
            answered = answered || Matches(m, payload);
            return true;
          });
      if (!read.ok()) return ctx.Fail(read.status());
      if (answered) break;
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) {
        ctx.err() << "argo-guest: no reply to ping " << seq << " within "
                  << absl::FormatDuration(ctx.timeout()) << "\n";
        return kRefused;
      }
      absl::StatusOr<bool> raised = guest->WaitVirq(absl::FromChrono(left));
      if (!raised.ok()) return ctx.Fail(raised.status());
    }
    rtt_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start)
            .count());
  }
  Report(ctx, std::move(rtt_us), *size,
         implicit ? absl::StrCat("port ", c.port, "'s cable")
                  : absl::StrCat(dst.domain_id, ":", dst.aport));
  return kOk;
}

int RunPong(Context& ctx, const Args& args) {
  Common c;
  if (absl::Status s = ParseCommon(args, "0", &c); !s.ok()) {
    return ctx.Usage(absl::StrCat("pong: ", s.message()));
  }
  absl::StatusOr<domid_t> from =
      ParsePartner("--from", args.Value("--from", "any"));
  if (!from.ok()) return ctx.Usage(std::string(from.status().message()));
  const bool implicit = args.Flag("--implicit");
  Guest* guest = ctx.Attach();
  if (guest == nullptr) return kUnreachable;
  absl::StatusOr<GuestRing*> ring =
      guest->RegisterRing(c.port, *from, c.ring_size);
  if (!ring.ok()) return ctx.Fail(ring.status());
  uint32_t answered = 0;
  absl::Status failed;
  for (;;) {
    absl::StatusOr<int> read =
        DrainRing(*guest, *ring, [&](ReceivedMessage& m) {
          // The header names the sender's source port: reply there, or over
          // this port's cable with --implicit.
          const xen_argo_addr_t back =
              implicit ? kImplicitDestination : m.source;
          absl::StatusOr<uint32_t> sent = guest->SendWaitingForSpace(
              c.port, back, m.payload, m.message_type, ctx.timeout());
          if (!sent.ok()) {
            failed = sent.status();
            return false;
          }
          ++answered;
          return c.count == 0 || answered < c.count;
        });
    if (!failed.ok()) return ctx.Fail(failed);
    if (!read.ok()) return ctx.Fail(read.status());
    if (c.count != 0 && answered >= c.count) return kOk;
    absl::StatusOr<bool> raised = guest->WaitVirq(absl::InfiniteDuration());
    if (!raised.ok()) return ctx.Fail(raised.status());
  }
}

}  // namespace

std::vector<Command> PingPongCommands() {
  return {
      Command{
          "ping",
          "--port P [--to D:Q] [--count N] [--size S] [--ring-size BYTES]",
          "Sends N messages of S bytes (default 10 of 64) from port P to D:Q,\n"
          "or over port P's cable without --to, each after the previous one's\n"
          "echo came back to a ring on port P; prints the round trips' p50,\n"
          "p90, p99 and max in microseconds and in CPUID units (CPUID is\n"
          "measured in this process: the cheapest trap to a hypervisor).\n",
          OptionSpec{{"--port", "--to", "--count", "--size", "--ring-size"},
                     {}},
          RunPing,
      },
      Command{
          "pong",
          "--port P [--from D|any] [--count N] [--implicit] [--ring-size "
          "BYTES]",
          "Registers a ring on port P and echoes every message back to its\n"
          "sender's address (from the message header), or with --implicit\n"
          "over port P's cable. Exits after N echoes (default: never).\n",
          OptionSpec{{"--port", "--from", "--count", "--ring-size"},
                     {"--implicit"}},
          RunPong,
      },
  };
}

}  // namespace argo::guest::cli
