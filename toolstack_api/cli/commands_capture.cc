// argoctl capture: the level's traffic, as lines (like tcpdump) or as
// pcapng (-w FILE, -w - for a pipe into wireshark -k -i -).
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "argo_core/public/argo.h"
#include "argo_core/xen_status.h"
#include "toolstack_api/capture/pcapng_writer.h"
#include "toolstack_api/cli/command.h"

namespace argo::toolstack::cli {
namespace {

// Ctrl-C (or SIGTERM) ends the capture cleanly: a watcher thread takes
// the signal and cancels the call, and the summary is still printed.
// argoctl blocked both in every thread before starting any
// (Command::takes_interrupts), so this thread is the one that gets them.
class InterruptCancels {
 public:
  explicit InterruptCancels(grpc::ClientContext* call) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this, call] {
      const timespec tick{0, 100'000'000};
      while (!done_.load()) {
        if (sigtimedwait(&set_, nullptr, &tick) > 0) {
          interrupted_ = true;
          call->TryCancel();
          return;
        }
      }
    });
  }
  ~InterruptCancels() {
    done_ = true;
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  bool interrupted() const { return interrupted_.load(); }

 private:
  sigset_t set_, old_;
  std::atomic<bool> done_{false};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

uint32_t NumberArg(const Args& args, const std::string& name, uint64_t max) {
  uint64_t n = 0;
  const std::string text = args.Value(name);
  if (!absl::SimpleAtoi(text, &n) || n > max) {
    throw UsageError{absl::StrCat("--", name, " takes a number up to ", max)};
  }
  return static_cast<uint32_t>(n);
}

// dom-id -> name for the lines' sake (one call at start; ids if it fails).
std::map<uint32_t, std::string> DomainNames(Context& ctx) {
  std::map<uint32_t, std::string> names;
  v1::ListDomainsResponse all;
  if (ListAll(ctx, &v1::Toolstack::Stub::ListDomains, v1::ListDomainsRequest(),
              &all)
          .ok()) {
    for (const v1::Domain& d : all.domains()) names[d.id()] = d.name();
  }
  return names;
}

std::string Addr(const std::map<uint32_t, std::string>& names, uint32_t domid,
                 uint32_t port) {
  if (domid == ARGO_DOMID_PARENT) return absl::StrCat("parent:", port);
  if (domid == ARGO_DOMID_IMPLICIT) return absl::StrCat("(implicit):", port);
  auto it = names.find(domid);
  return it == names.end() ? absl::StrCat(domid, ":", port)
                           : absl::StrCat(it->second, ":", port);
}

std::string Preview(const std::string& payload) {
  std::string out;
  for (char c : payload.substr(0, 48)) {
    out += absl::ascii_isprint(static_cast<unsigned char>(c)) ? c : '.';
  }
  return payload.size() > 48 ? out + "..." : out;
}

std::string Line(const v1::CapturedMessage& m,
                 const std::map<uint32_t, std::string>& names) {
  const absl::Time t = absl::FromUnixNanos(m.unix_nanos());
  std::string line = absl::StrCat(
      absl::FormatTime("%H:%M:%E6S", t, absl::UTCTimeZone()), " ",
      Addr(names, m.src_domid(), m.src_port()), " > ",
      Addr(names, m.dst_domid(), m.dst_port()));
  if (m.ring_partner() == XEN_ARGO_DOMID_ANY && m.xen_errno() == 0) {
    absl::StrAppend(&line, " (wildcard ring)");
  }
  absl::StrAppend(&line, " type ", m.message_type(), " len ",
                  m.payload_len());
  if (m.implicit()) absl::StrAppend(&line, " implicit");
  if (m.from_host()) absl::StrAppend(&line, " from-host");
  if (m.xen_errno() != 0) {
    absl::StrAppend(&line, " REFUSED ", XenErrnoName(m.xen_errno()));
  }
  if (!m.payload().empty()) absl::StrAppend(&line, ": ", Preview(m.payload()));
  return line;
}

using capture::CaptureRecordFields;
using capture::PcapngWriter;

CaptureRecordFields Fields(const v1::CapturedMessage& m) {
  CaptureRecordFields f;
  f.unix_nanos = m.unix_nanos();
  f.flags = (m.implicit() ? capture::kCaptureFlagImplicit : 0) |
            (m.xen_errno() != 0 ? capture::kCaptureFlagRefused : 0) |
            (m.ring_partner() == XEN_ARGO_DOMID_ANY && m.xen_errno() == 0
                 ? capture::kCaptureFlagWildcard
                 : 0) |
            (m.from_host() ? capture::kCaptureFlagFromHost : 0);
  f.message_type = m.message_type();
  f.src_port = m.src_port();
  f.src_domid = static_cast<uint16_t>(m.src_domid());
  f.dst_domid = static_cast<uint16_t>(m.dst_domid());
  f.dst_port = m.dst_port();
  f.ring_partner = static_cast<uint16_t>(m.ring_partner());
  f.xen_errno = static_cast<uint16_t>(m.xen_errno());
  f.payload_len = m.payload_len();
  return f;
}

int Capture(Context& ctx, const Args& args) {
  v1::CaptureRequest request;
  if (!args.Value("domain").empty()) {
    *request.mutable_domain() = DomainArg(args.Value("domain"));
  }
  if (!args.Value("port").empty()) request.set_port(NumberArg(args, "port", UINT32_MAX));
  if (!args.Value("type").empty()) {
    request.set_message_type(NumberArg(args, "type", UINT32_MAX));
  }
  request.set_include_refused(args.Flag("refused"));
  request.set_only_refused(args.Flag("only-refused"));
  if (!args.Value("snap").empty()) request.set_snap_len(NumberArg(args, "snap", 65535));
  if (!args.Value("count").empty()) request.set_count(NumberArg(args, "count", UINT32_MAX));
  if (!args.Value("for").empty()) request.set_seconds(NumberArg(args, "for", 86400));
  if (!args.Value("buffer-kib").empty()) {
    request.set_buffer_kib(NumberArg(args, "buffer-kib", 65536));
  }
  const std::string file = args.Value("w");
  const uint32_t snap = request.snap_len() == 0 ? 256 : request.snap_len();

  // The pcapng goes to the file or stdout; lines to stdout otherwise.
  std::unique_ptr<std::ofstream> out_file;
  std::ostream* pcap_out = nullptr;
  if (file == "-") {
    // A reader that goes (wireshark closed) is the end, not a SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    pcap_out = &ctx.out();
  } else if (!file.empty()) {
    out_file = std::make_unique<std::ofstream>(file, std::ios::binary);
    if (!*out_file) {
      ctx.err() << "argoctl: cannot write " << file << "\n";
      return kUsageError;
    }
    pcap_out = out_file.get();
  }
  std::unique_ptr<PcapngWriter> pcapng;
  if (pcap_out != nullptr) {
    pcapng = std::make_unique<PcapngWriter>(pcap_out);
    if (absl::Status s = pcapng->WriteHeader(snap); !s.ok()) {
      ctx.err() << "argoctl: " << s.message() << "\n";
      return kUsageError;
    }
  }
  const std::map<uint32_t, std::string> names =
      pcapng == nullptr ? DomainNames(ctx) : std::map<uint32_t, std::string>();

  grpc::ClientContext call;
  InterruptCancels interrupt(&call);
  std::unique_ptr<grpc::ClientReader<v1::CaptureResponse>> reader =
      ctx.stub().Capture(&call, request);
  reader->WaitForInitialMetadata();
  ctx.err() << "argoctl: capturing" << (file.empty() ? "" : " to ")
            << (file == "-" ? std::string("stdout") : file) << "\n";
  v1::CaptureResponse response;
  uint64_t written = 0, dropped = 0;
  while (reader->Read(&response)) {
    for (const v1::CapturedMessage& m : response.messages()) {
      if (pcapng != nullptr) {
        absl::Status s = pcapng->WriteRecord(
            Fields(m), absl::Span<const uint8_t>(
                           reinterpret_cast<const uint8_t*>(m.payload().data()),
                           m.payload().size()));
        if (!s.ok()) {
          // The reader went (a closed pipe): end the capture.
          call.TryCancel();
          break;
        }
      } else if (ctx.json()) {
        ctx.PrintJson(m, /*one_line=*/true);
      } else {
        ctx.out() << Line(m, names) << "\n";
      }
      ++written;
    }
    ctx.out().flush();
    dropped = response.dropped();
  }
  const grpc::Status status = reader->Finish();
  ctx.err() << "argoctl: " << written << " messages captured, " << dropped
            << " dropped\n";
  if (status.ok() || interrupt.interrupted()) return kOk;
  return ctx.Failed(status);
}

}  // namespace

std::vector<Command> CaptureCommands() {
  return {
      {"capture",
       "[--domain D] [--port P] [--type T] [--refused | --only-refused] "
       "[--snap BYTES] [--count N] [--for SECONDS] [-w FILE|-]",
       "capture the level's messages (tcpdump-style lines, or pcapng)",
       "Records each message the level delivers (with --refused also each "
       "refused send, with its Xen errno): source, destination ring, type, "
       "length and the first --snap bytes (default 256).\n"
       "  --domain D     messages from or to D     --port P  from or to port P\n"
       "  --type T       of message type T\n"
       "  --count N      stop after N messages     --for S   stop after S seconds\n"
       "  --buffer-kib K the daemon's queue for this capture (default 4096);\n"
       "                 what does not fit is counted as dropped, senders never wait\n"
       "  -w FILE        write pcapng (link type USER0, docs/capture.md) to FILE;\n"
       "                 -w - writes it to stdout: argoctl capture -w - | wireshark -k -i -\n"
       "                 (the dissector: tools/wireshark/argo.lua)\n"
       "Ctrl-C ends it; the count of captured and dropped messages goes to "
       "stderr. With --json, one JSON object per message.",
       {{"domain", "port", "type", "snap", "count", "for", "buffer-kib", "w"},
        {"refused", "only-refused"},
        0,
        0},
       Capture,
       /*takes_interrupts=*/true},
  };
}

}  // namespace argo::toolstack::cli
