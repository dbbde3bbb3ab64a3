// argoctl: the toolstack CLI of an argo-hv level, in xl's habits.
//
//   argoctl [--socket PATH] [--json] [--timeout SECONDS] COMMAND [ARGS]
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "toolstack_api/cli/command.h"
#include "toolstack_api/endpoint_text.h"
#include "toolstack_api/unix_listener.h"
#include "toolstack_api/version.h"

namespace argo::toolstack::cli {
absl::string_view CompletionScript();

namespace {

constexpr char kGlobalHelp[] =
    "usage: argoctl [--socket PATH] [--json] [--timeout SECONDS] COMMAND "
    "[ARGS]\n"
    "\n"
    "Drives an argo-hv level over its toolstack API (argo.toolstack.v1).\n"
    "Domains are named by name or id everywhere; ports as DOMAIN:PORT.\n"
    "\n"
    "global options (anywhere on the line):\n"
    "  --socket PATH      argo-hv's socket (default $ARGO_SOCKET, else\n"
    "                     $XDG_RUNTIME_DIR/argo/argo-hv.sock or "
    "/run/argo/argo-hv.sock),\n"
    "                     or a gRPC target such as 127.0.0.1:PORT\n"
    "  --json             print replies as JSON (field names as in the "
    ".proto)\n"
    "  --timeout SECONDS  the deadline of each call (default 5)\n"
    "  --help             this, or a command's help after the command\n"
    "\n"
    "exit codes: 0 done; 1 argo-hv refused or failed the request; 2 usage\n"
    "error (nothing sent); 3 argo-hv could not be reached in time.\n"
    "\n"
    "bash completion: source <(argoctl completion bash)\n"
    "\n"
    "commands:\n";

struct Global {
  std::string socket;
  bool json = false;
  absl::Duration timeout = absl::Seconds(5);
  bool help = false;
  std::vector<std::string> rest;  // the command and its arguments
};

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group : {DomainCommands, CableCommands, PolicyCommands,
                     LevelCommands, CaptureCommands, MeasurementCommands}) {
    for (Command& c : group()) all.push_back(std::move(c));
  }
  return all;
}

Global ParseGlobal(int argc, char** argv) {
  Global g;
  const char* env = std::getenv("ARGO_SOCKET");
  g.socket = env != nullptr && env[0] != '\0' ? env : DefaultSocketPath();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--socket" || arg == "--timeout") {
      if (i + 1 >= argc) throw UsageError{arg + " needs a value"};
      const std::string value = argv[++i];
      if (arg == "--socket") {
        g.socket = value;
      } else {
        double seconds = 0;
        if (!absl::SimpleAtod(value, &seconds) || seconds <= 0) {
          throw UsageError{"--timeout takes a positive number of seconds"};
        }
        g.timeout = absl::Seconds(seconds);
      }
    } else if (arg == "--json") {
      g.json = true;
    } else if (arg == "--help" || arg == "-h") {
      g.help = true;
    } else {
      g.rest.push_back(arg);
    }
  }
  return g;
}

// The command the words start with (longest names first), or null.
const Command* Match(const std::vector<Command>& all,
                     const std::vector<std::string>& words, size_t* used) {
  for (size_t n : {size_t{3}, size_t{2}, size_t{1}}) {
    if (words.size() < n) continue;
    std::vector<std::string> head(words.begin(), words.begin() + n);
    const std::string name = absl::StrJoin(head, " ");
    for (const Command& c : all) {
      if (c.name == name) {
        *used = n;
        return &c;
      }
    }
  }
  return nullptr;
}

Args ParseArgs(const Command& c, const std::vector<std::string>& words) {
  Args args;
  auto in = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    // --name, or -x for a one-letter option (capture's -w, as tcpdump's).
    const bool short_option = w.size() == 2 && w[0] == '-' && w[1] != '-';
    if (absl::StartsWith(w, "--") || short_option) {
      const std::string name = w.substr(short_option ? 1 : 2);
      if (in(c.options.with_value, name)) {
        if (i + 1 >= words.size()) throw UsageError{w + " needs a value"};
        args.values[name].push_back(words[++i]);
      } else if (in(c.options.flags, name)) {
        args.flags[name] = true;
      } else {
        throw UsageError{absl::StrCat("argoctl ", c.name, " has no option ", w)};
      }
    } else {
      args.positional.push_back(w);
    }
  }
  if (args.positional.size() < c.options.min_positional ||
      args.positional.size() > c.options.max_positional) {
    throw UsageError{absl::StrCat("argoctl ", c.name, " takes ",
                                  c.options.min_positional ==
                                          c.options.max_positional
                                      ? absl::StrCat(c.options.min_positional)
                                      : absl::StrCat(c.options.min_positional,
                                                     " to ",
                                                     c.options.max_positional),
                                  " argument(s), got ",
                                  args.positional.size())};
  }
  return args;
}

void PrintGlobalHelp(const std::vector<Command>& all) {
  std::cout << kGlobalHelp;
  for (const Command& c : all) {
    std::cout << "  " << c.name << std::string(18 - std::min<size_t>(17, c.name.size()), ' ')
              << c.summary << "\n";
  }
  std::cout << "  completion bash   print the bash completion script\n"
               "\nargoctl COMMAND --help for a command's arguments.\n";
}

void PrintCommandHelp(const Command& c) {
  std::cout << "usage: argoctl " << c.name
            << (c.usage.empty() ? "" : " ") << c.usage << "\n\n"
            << c.summary << ".\n";
  if (!c.help.empty()) std::cout << "\n" << c.help << "\n";
}

std::shared_ptr<grpc::Channel> Connect(const Global& g) {
  // A path is a unix socket; anything else with a ':' ("unix:...",
  // "127.0.0.1:PORT") is a gRPC target as written.
  const bool is_target =
      !g.socket.empty() && g.socket[0] != '/' && absl::StrContains(g.socket, ':');
  const std::string target =
      is_target ? g.socket : absl::StrCat("unix:", g.socket);
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

// Hidden: what the completion script asks for. Quiet on any failure.
int Complete(const Global& g, const std::vector<std::string>& words,
             const std::vector<Command>& all) {
  const std::string what = words.size() > 1 ? words[1] : "";
  if (what == "commands") {
    std::set<std::string> firsts;
    for (const Command& c : all) firsts.insert(c.name.substr(0, c.name.find(' ')));
    firsts.insert("completion");
    for (const std::string& f : firsts) std::cout << f << "\n";
    return kOk;
  }
  if (what == "options") {
    std::vector<std::string> rest(words.begin() + 2, words.end());
    size_t used = 0;
    const Command* c = Match(all, rest, &used);
    std::cout << "--help\n--json\n--socket\n--timeout\n";
    if (c != nullptr) {
      for (const auto& o : c->options.with_value) std::cout << "--" << o << "\n";
      for (const auto& o : c->options.flags) std::cout << "--" << o << "\n";
    }
    return kOk;
  }
  Context ctx(Connect(g), false, absl::Seconds(1), std::cout, std::cerr);
  v1::ListDomainsResponse domains;
  if (!ListAll(ctx, &v1::Toolstack::Stub::ListDomains,
               v1::ListDomainsRequest(), &domains)
           .ok()) {
    return kOk;
  }
  for (const v1::Domain& d : domains.domains()) {
    std::cout << d.name() << (what == "endpoints" ? ":" : "") << "\n";
  }
  if (what == "endpoints") {
    v1::ListCablesResponse cables;
    if (ListAll(ctx, &v1::Toolstack::Stub::ListCables,
                v1::ListCablesRequest(), &cables)
            .ok()) {
      for (const v1::Cable& c : cables.cables()) {
        std::cout << FormatEndpoint(c.from()) << "\n";
      }
    }
    std::cout << "parent:\n";
  }
  return kOk;
}

int Run(int argc, char** argv) {
  const std::vector<Command> all = AllCommands();
  Global g = ParseGlobal(argc, argv);
  if (g.rest.empty() || g.rest[0] == "help") {
    if (g.rest.size() > 1) {
      size_t used = 0;
      std::vector<std::string> rest(g.rest.begin() + 1, g.rest.end());
      if (const Command* c = Match(all, rest, &used)) {
        PrintCommandHelp(*c);
        return kOk;
      }
    }
    PrintGlobalHelp(all);
    return g.rest.empty() && !g.help ? kUsageError : kOk;
  }
  if (g.rest[0] == "--version") {
    std::cout << "argoctl " << kArgoVersion << "\n";
    return kOk;
  }
  if (g.rest[0] == "completion") {
    if (g.rest.size() != 2 || g.rest[1] != "bash") {
      throw UsageError{"usage: argoctl completion bash"};
    }
    std::cout << CompletionScript();
    return kOk;
  }
  if (g.rest[0] == "__complete") return Complete(g, g.rest, all);
  size_t used = 0;
  const Command* c = Match(all, g.rest, &used);
  if (c == nullptr) {
    throw UsageError{absl::StrCat("unknown command \"",
                                  absl::StrJoin(g.rest.begin(),
                                                g.rest.begin() +
                                                    std::min<size_t>(2, g.rest.size()),
                                                " "),
                                  "\"; argoctl --help lists them")};
  }
  if (g.help) {
    PrintCommandHelp(*c);
    return kOk;
  }
  std::vector<std::string> words(g.rest.begin() + used, g.rest.end());
  Args args;
  try {
    args = ParseArgs(*c, words);
  } catch (const UsageError& e) {
    std::cerr << "argoctl: " << e.message << "\nusage: argoctl " << c->name
              << (c->usage.empty() ? "" : " ") << c->usage << "\n";
    return kUsageError;
  }
  if (c->takes_interrupts) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  }
  Context ctx(Connect(g), g.json, g.timeout, std::cout, std::cerr);
  return c->run(ctx, args);
}

}  // namespace
}  // namespace argo::toolstack::cli

int main(int argc, char** argv) {
  try {
    return argo::toolstack::cli::Run(argc, argv);
  } catch (const argo::toolstack::cli::UsageError& e) {
    std::cerr << "argoctl: " << e.message << "\n";
    return argo::toolstack::cli::kUsageError;
  }
}
