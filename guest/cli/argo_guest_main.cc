// argo-guest: a guest process on the command line (DESIGN §8).
//
//   argo-guest --domain NAME|ID [--token T] [--socket S]
//              [--mode blocking|low-latency] COMMAND [ARGS]
//
// Parsing and attaching only; the commands live in send_listen.cc and
// ping_pong.cc.
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "guest/cli/cli_args.h"
#include "guest/cli/command.h"

namespace argo::guest::cli {
namespace {

constexpr char kGlobalHelp[] =
    "usage: argo-guest --domain NAME|ID [--token T] [--socket PATH]\n"
    "                  [--mode blocking|low-latency] [--timeout SECONDS]\n"
    "                  [--verbose] COMMAND [ARGS]\n"
    "\n"
    "Attaches to a domain of an argo-hv level as its guest and uses Argo.\n"
    "Ports are this domain's; other domains are named by domid.\n"
    "\n"
    "global options (anywhere on the line):\n"
    "  --domain NAME|ID   the domain to attach to\n"
    "  --token T          its attach token (argoctl domain token NAME);\n"
    "                     prefer $ARGO_GUEST_TOKEN, which `ps` does not show\n"
    "  --socket PATH      argo-hv's attach socket (default: $ARGO_SOCKET with\n"
    "                     .sock replaced by -attach.sock, else\n"
    "                     $XDG_RUNTIME_DIR/argo/argo-hv-attach.sock, else\n"
    "                     /run/argo/argo-hv-attach.sock)\n"
    "  --mode M           blocking (default) or low-latency (spins briefly\n"
    "                     on a shared doorbell before sleeping)\n"
    "  --timeout SECONDS  how long a send waits for ring space and ping for\n"
    "                     a reply (default 10)\n"
    "  --verbose          say what happens on stderr\n"
    "  --help             this, or a command's help after the command\n"
    "\n"
    "exit codes: 0 done; 1 the hypervisor refused (the Xen error is\n"
    "printed); 2 usage error (nothing sent); 3 argo-hv unreachable, attach\n"
    "refused, or argo-hv went away.\n"
    "\n"
    "commands:\n";

const std::set<std::string> kGlobalValues = {"--domain", "--token", "--socket",
                                             "--mode", "--timeout"};
const std::set<std::string> kGlobalFlags = {"--verbose", "--help"};

std::vector<Command> AllCommands() {
  std::vector<Command> all = SendListenCommands();
  for (Command& c : PingPongCommands()) all.push_back(std::move(c));
  return all;
}

std::string DefaultSocket() {
  const char* api = std::getenv("ARGO_SOCKET");
  if (api != nullptr && absl::EndsWith(api, ".sock")) {
    const std::string s = api;
    return s.substr(0, s.size() - 5) + "-attach.sock";
  }
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] != '\0') {
    return absl::StrCat(runtime, "/argo/argo-hv-attach.sock");
  }
  return "/run/argo/argo-hv-attach.sock";
}

void PrintHelp(const std::vector<Command>& commands) {
  std::cout << kGlobalHelp;
  for (const Command& c : commands) {
    std::cout << "  " << c.name << " " << c.usage << "\n";
  }
}

int Usage(const std::string& message) {
  std::cerr << "argo-guest: " << message << "\n(argo-guest --help for usage)\n";
  return kUsageError;
}

int Main(const std::vector<std::string>& argv) {
  const std::vector<Command> commands = AllCommands();
  std::set<std::string> every_value = kGlobalValues;
  for (const Command& c : commands) {
    every_value.insert(c.options.with_value.begin(),
                       c.options.with_value.end());
  }
  const std::string name = FindCommand(argv, every_value);
  const Command* command = nullptr;
  for (const Command& c : commands) {
    if (c.name == name) command = &c;
  }
  OptionSpec spec{kGlobalValues, kGlobalFlags};
  if (command != nullptr) {
    spec.with_value.insert(command->options.with_value.begin(),
                           command->options.with_value.end());
    spec.flags.insert(command->options.flags.begin(),
                      command->options.flags.end());
  }
  absl::StatusOr<Args> args = ParseArgs(argv, spec);
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->Flag("--help")) {
    if (command == nullptr) {
      PrintHelp(commands);
    } else {
      std::cout << "usage: argo-guest [GLOBAL OPTIONS] " << command->name << " "
                << command->usage << "\n\n"
                << command->help;
    }
    return kOk;
  }
  if (name.empty()) return Usage("a COMMAND is needed");
  if (command == nullptr) return Usage(absl::StrCat("unknown command ", name));
  args->positional.erase(args->positional.begin());  // the command word

  AttachOptions attach;
  attach.domain = args->Value("--domain");
  if (attach.domain.empty()) return Usage("--domain NAME|ID is required");
  const char* env_token = std::getenv("ARGO_GUEST_TOKEN");
  attach.token = args->Value("--token", env_token != nullptr ? env_token : "");
  if (attach.token.empty()) {
    return Usage("an attach token is needed (--token or $ARGO_GUEST_TOKEN)");
  }
  attach.socket_path = args->Value("--socket", DefaultSocket());
  const std::string mode = args->Value("--mode", "blocking");
  if (mode == "low-latency") {
    attach.mode = transport::Mode::kLowLatency;
  } else if (mode != "blocking") {
    return Usage("--mode: blocking or low-latency");
  }
  double seconds = 10;
  if (!absl::SimpleAtod(args->Value("--timeout", "10"), &seconds) ||
      !(seconds >= 0)) {
    return Usage("--timeout: a number of seconds");
  }
  Context ctx(attach, args->Flag("--verbose"), absl::Seconds(seconds),
              std::cout, std::cerr);
  return command->run(ctx, *args);
}

}  // namespace
}  // namespace argo::guest::cli

int main(int argc, char** argv) {
  return argo::guest::cli::Main(std::vector<std::string>(argv, argv + argc));
}
