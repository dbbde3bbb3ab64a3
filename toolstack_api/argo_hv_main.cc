// argo-hv: the hypervisor daemon of one level (DESIGN §6, §8). Owns the
// core, the implicit-destination table and the policy; serves the toolstack
// API on a unix socket (and loopback TCP when asked) and guest processes on
// the attach socket beside it (the io_uring guest server).
//
//   argo-hv [--socket PATH] [--attach-socket PATH] [--config FILE]
//           [--policy FILE] [--allow-uid UID]... [--tcp 127.0.0.1:PORT]
//           [--parent SOCKET --parent-domain NAME --parent-token T [--cpus N]]
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/optional.h"
#include "argo_core/public/argo_nesting.h"
#include "google/protobuf/stubs/common.h"
#include "grpcpp/grpcpp.h"
#include "implicit_dest/policy/policy_engine.h"
#include "toolstack_api/boot_config.h"
#include "toolstack_api/config_file.h"
#include "toolstack_api/server.h"
#include "toolstack_api/unix_listener.h"
#include "toolstack_api/version.h"
#include "transport/guest_server.h"
#include "transport/virq_sockets.h"

namespace argo::toolstack {
absl::string_view DefaultConfigText();  // configs/default.textproto

namespace {

// --config @default: configs/default.textproto; --policy @default: the
// embedded default policy (as if --policy were not given).
constexpr char kEmbeddedConfig[] = "@default";

constexpr char kUsage[] =
    "usage: argo-hv [options]\n"
    "\n"
    "The Argo hypervisor daemon of one level: serves the toolstack API\n"
    "(argo.toolstack.v1, with gRPC health and reflection) on a unix socket.\n"
    "\n"
    "options:\n"
    "  --socket PATH      the socket (default $XDG_RUNTIME_DIR/argo/argo-hv.sock\n"
    "                     or /run/argo/argo-hv.sock); mode 0600. Its directory\n"
    "                     is created 0700, or must be yours and writable by\n"
    "                     no one else\n"
    "  --attach-socket PATH  where guest processes attach (SOCK_SEQPACKET,\n"
    "                     mode 0600; default: the socket's path with .sock\n"
    "                     replaced by -attach.sock)\n"
    "  --config FILE      apply this boot configuration (argo.config.v1 text\n"
    "                     format) before serving; a bad file stops the start.\n"
    "                     @default: the embedded configs/default.textproto\n"
    "  --policy FILE      start with this policy (argo.policy.v1) instead of\n"
    "                     the embedded default (@default: that one, named);\n"
    "                     an empty file or a directory stops the start\n"
    "  --allow-uid UID    also serve this uid (repeatable; the daemon's own uid\n"
    "                     is always served)\n"
    "  --max-domains N    at most N domains (default 256)\n"
    "  --max-memory-mib M at most M MiB of guest memory in all (default 4096)\n"
    "  --tcp ADDR:PORT    also serve loopback TCP (127.0.0.1, localhost, [::1]);\n"
    "                     TCP has no peer check: use only on a single-user host\n"
    "  --parent SOCKET    run as a child level (nesting): attach to the parent\n"
    "                     argo-hv's attach socket as domain --parent-domain;\n"
    "                     sends cabled to parent:q go up, the parent's\n"
    "                     messages come down to the cables parent:r. Or the\n"
    "                     configuration's parent block (not both)\n"
    "  --parent-domain NAME  this level's domain in the parent (name or id)\n"
    "  --parent-token T   its attach token (argoctl domain token NAME at the\n"
    "                     parent; default $ARGO_PARENT_TOKEN, which other\n"
    "                     users cannot read in the process list)\n"
    "  --cpus N           receive buffers in the parent, 1..64 (default 2)\n"
    "  --version          print the version and exit\n"
    "  --help             print this and exit\n"
    "\n"
    "SIGINT or SIGTERM stops it cleanly (the socket is removed).\n"
    "Exit status: 0 stopped by a signal; 1 the start failed; 2 usage error;\n"
    "3 the parent is unreachable or refused the attach (nothing served). A\n"
    "parent that goes later is logged; the level keeps serving its guests\n"
    "(sends up get ECONNREFUSED) and re-attaches when started again.\n";

struct Flags {
  std::string socket = DefaultSocketPath();
  std::string attach_socket;  // "": AttachSocketPath(socket)
  std::string config;
  std::string policy;
  std::vector<uid_t> allowed_uids;
  std::string tcp;
  uint32_t max_domains = 256;
  uint64_t max_memory_mib = 4096;
  std::string parent;  // "": no --parent
  std::string parent_domain;
  std::string parent_token;
  uint32_t cpus = 0;  // 0: not given (the default, 2)
};

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "argo-hv: %s\n(argo-hv --help for usage)\n",
               message.c_str());
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    // An empty value would read as "not given" (--policy "" as the
    // permissive default): refused like a missing one.
    auto value = [&]() -> std::string {
      if (i + 1 >= argc || argv[i + 1][0] == '\0') {
        UsageError(arg + " needs a value");
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--version") {
      std::printf("argo-hv %s\n", kArgoVersion);
      std::exit(0);
    } else if (arg == "--socket") {
      flags.socket = value();
    } else if (arg == "--attach-socket") {
      flags.attach_socket = value();
    } else if (arg == "--config") {
      flags.config = value();
    } else if (arg == "--policy") {
      flags.policy = value();
    } else if (arg == "--allow-uid") {
      uint32_t uid = 0;
      const std::string text = value();
      if (!absl::SimpleAtoi(text, &uid)) UsageError("bad uid " + text);
      flags.allowed_uids.push_back(uid);
    } else if (arg == "--max-domains") {
      const std::string text = value();
      if (!absl::SimpleAtoi(text, &flags.max_domains) || flags.max_domains == 0) {
        UsageError("--max-domains takes a positive number, not " + text);
      }
    } else if (arg == "--max-memory-mib") {
      const std::string text = value();
      if (!absl::SimpleAtoi(text, &flags.max_memory_mib) ||
          flags.max_memory_mib == 0 || flags.max_memory_mib > (1ull << 30)) {
        UsageError("--max-memory-mib takes a positive number, not " + text);
      }
    } else if (arg == "--tcp") {
      flags.tcp = value();
    } else if (arg == "--parent") {
      flags.parent = value();
    } else if (arg == "--parent-domain") {
      flags.parent_domain = value();
    } else if (arg == "--parent-token") {
      flags.parent_token = value();
    } else if (arg == "--cpus") {
      const std::string text = value();
      if (!absl::SimpleAtoi(text, &flags.cpus) || flags.cpus == 0 ||
          flags.cpus > ARGO_LEVEL_MAX_CPUS) {
        UsageError(absl::StrCat("--cpus takes 1..", ARGO_LEVEL_MAX_CPUS,
                                ", not ", text));
      }
    } else {
      UsageError("unknown argument " + arg);
    }
  }
  if (flags.parent.empty()) {
    for (const auto& [given, name] :
         {std::pair{!flags.parent_domain.empty(), "--parent-domain"},
          std::pair{!flags.parent_token.empty(), "--parent-token"},
          std::pair{flags.cpus != 0, "--cpus"}}) {
      if (given) UsageError(absl::StrCat(name, " needs --parent"));
    }
  } else {
    if (flags.parent_token.empty()) {
      const char* env = getenv("ARGO_PARENT_TOKEN");
      if (env != nullptr) flags.parent_token = env;
    }
    if (flags.parent_domain.empty()) {
      UsageError("--parent needs --parent-domain");
    }
    if (flags.parent_token.empty()) {
      UsageError("--parent needs --parent-token (or $ARGO_PARENT_TOKEN)");
    }
  }
  return flags;
}

// The parent is unreachable or refused us: nothing was served.
constexpr int kParentFailed = 3;

[[noreturn]] void Fail(const absl::Status& status) {
  std::fprintf(stderr, "argo-hv: %s\n", std::string(status.message()).c_str());
  std::exit(1);
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  // Every thread started from here on inherits the mask; main takes the
  // signals with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // VIRQs reach attached guests' wake sockets; created before the level
  // that raises them and destroyed after it.
  transport::VirqSockets virqs;
  PlatformOptions platform_options;
  platform_options.notifier = &virqs;
  platform_options.max_domains = flags.max_domains;
  platform_options.max_total_memory_frames = flags.max_memory_mib * 256;
  // The platform reads an empty policy_text as "the embedded default", so
  // only a file's text that ReadTextFile vouched for (never blank) or the
  // explicit @default reaches it: an empty file fails the start instead.
  if (flags.policy == kEmbeddedConfig) {
    platform_options.policy_text = std::string(policy::DefaultPolicyText());
    platform_options.policy_name = "@default (default.textproto)";
  } else if (!flags.policy.empty()) {
    absl::StatusOr<std::string> policy =
        ReadTextFile(flags.policy, TextKind::kPolicy);
    if (!policy.ok()) Fail(policy.status());
    platform_options.policy_text = *std::move(policy);
    platform_options.policy_name = flags.policy;
  }
  auto platform = Platform::Create(platform_options);
  if (!platform.ok()) Fail(platform.status());
  absl::optional<ConfigFile> config;
  absl::optional<ParentSpec> parent;
  if (!flags.config.empty()) {
    absl::StatusOr<ConfigFile> file =
        flags.config == kEmbeddedConfig
            ? ConfigFile{std::string(DefaultConfigText()), ""}
            : LoadConfigFile(flags.config);
    if (!file.ok()) Fail(file.status());
    absl::StatusOr<absl::optional<ParentSpec>> from_config =
        ParentFromConfig(file->text, flags.config);
    if (!from_config.ok()) Fail(from_config.status());
    parent = *from_config;
    config = *std::move(file);
  }
  if (!flags.parent.empty()) {
    if (parent.has_value()) {
      UsageError("the parent is given twice: --parent and the "
                 "configuration's parent block");
    }
    parent = ParentSpec{.socket = flags.parent,
                        .domain = flags.parent_domain,
                        .token = flags.parent_token};
    if (flags.cpus != 0) parent->cpus = flags.cpus;
  }
  // The parent first: a level that cannot reach it serves nothing (fail
  // closed), and its cables to parent:q are applied after.
  if (parent.has_value()) {
    if (absl::Status s = (*platform)->AttachToParent(*parent); !s.ok()) {
      std::fprintf(stderr, "argo-hv: %s\n", std::string(s.message()).c_str());
      std::exit(kParentFailed);
    }
  }
  if (config.has_value()) {
    auto applied = ApplyConfig(**platform, config->text, flags.config,
                               config->policy_text, ConfigOrigin::kStart);
    if (!applied.ok()) Fail(applied.status());
  }
  // The socket before the server: a second daemon stops here, untouched.
  auto listener = UnixListener::Open(flags.socket, flags.allowed_uids);
  if (!listener.ok()) Fail(listener.status());
  const std::string attach_path = flags.attach_socket.empty()
                                      ? AttachSocketPath(flags.socket)
                                      : flags.attach_socket;
  auto attach_listener =
      UnixListener::Open(attach_path, flags.allowed_uids, SOCK_SEQPACKET);
  if (!attach_listener.ok()) Fail(attach_listener.status());
  transport::GuestServerOptions guest_options;
  guest_options.allowed_uids = flags.allowed_uids;
  guest_options.max_guests = flags.max_domains;
  auto guests = transport::GuestServer::Start(
      (*attach_listener)->fd(), &(*platform)->hypervisor(), platform->get(),
      &virqs, guest_options);
  if (!guests.ok()) Fail(guests.status());
  (*platform)->SetAttachSocketPath(attach_path);
  transport::GuestServer* guest_server = guests->get();
  (*platform)->SetEvictor(
      [guest_server](domid_t domid) { guest_server->Evict(domid); });
  ServerOptions server_options;
  server_options.tcp_address = flags.tcp;
  auto server = ToolstackServer::Start(platform->get(), server_options);
  if (!server.ok()) {
    listener->reset();  // no socket left behind
    Fail(server.status());
  }
  ToolstackServer* served = server->get();
  (*listener)->Start([served](int fd) { served->AddConnection(fd); },
                     [](const PeerCredentials& peer) {
                       std::fprintf(stderr,
                                    "argo-hv: refused a client with uid %u "
                                    "(pid %d): not an allowed uid\n",
                                    static_cast<unsigned>(peer.uid),
                                    static_cast<int>(peer.pid));
                     });
  const absl::optional<ParentLinkRecord> link = (*platform)->parent_link();
  std::fprintf(stderr,
               "argo-hv: started (argo-hv %s, gRPC %s, protobuf %s) pid %d on "
               "unix:%s%s; guests attach at %s; config %s; policy %s; %zu "
               "domains; %s; measurements: register %s\n",
               kArgoVersion, grpc::Version().c_str(),
               google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)
                   .c_str(),
               static_cast<int>(getpid()), flags.socket.c_str(),
               flags.tcp.empty()
                   ? ""
                   : absl::StrCat(" and tcp:", flags.tcp, " (port ",
                                  (*server)->tcp_port(), ")")
                         .c_str(),
               attach_path.c_str(),
               flags.config.empty() ? "(none)" : flags.config.c_str(),
               flags.policy.empty() ? "(embedded default)"
                                    : flags.policy.c_str(),
               (*platform)->ListDomains().size(),
               link.has_value()
                   ? absl::StrCat("child level of ", link->socket,
                                  " as domain ", link->domain, " (id ",
                                  link->domid_in_parent, ", ", link->cpus,
                                  " receive buffers)")
                         .c_str()
                   : "root level",
               // After the boot configuration: what it and the start's
               // policy extended the register to (argoctl measurements).
               Sha256ToHex((*platform)->launch_log().Register()).c_str());

  int signal_number = 0;
  bool parent_lost_logged = false;
  while (signal_number <= 0) {
    // Wakes now and then to notice a lost parent (the link counts it; the
    // log says it once).
    const timespec poll = {0, 250 * 1000 * 1000};
    signal_number = sigtimedwait(&stop_signals, nullptr, &poll);
    if (link.has_value() && !parent_lost_logged) {
      const absl::optional<ParentLinkRecord> now = (*platform)->parent_link();
      if (now.has_value() && now->lost) {
        std::fprintf(stderr,
                     "argo-hv: lost the parent at %s (domain %s): sends "
                     "cabled to parent:q now get ECONNREFUSED; still serving "
                     "this level's guests; start this level again to "
                     "re-attach\n",
                     now->socket.c_str(), now->domain.c_str());
        parent_lost_logged = true;
      }
    }
  }
  (*listener)->Stop();
  // Guests first: detached (not crashed), then no eviction can be running.
  (*platform)->SetEvictor(nullptr);
  guests->reset();
  attach_listener->reset();
  (*server)->Shutdown(absl::Seconds(2));
  listener->reset();  // removes the socket
  std::fprintf(stderr, "argo-hv: stopped on %s (argo-hv %s); removed %s\n",
               strsignal(signal_number), kArgoVersion, flags.socket.c_str());
  server->reset();
  platform->reset();
  return 0;
}

}  // namespace
}  // namespace argo::toolstack

int main(int argc, char** argv) { return argo::toolstack::Main(argc, argv); }
