// argoctl's commands: what each takes, and what every command shares — the
// stub, the output mode, the deadline, the exit codes.
//
// Exit codes (documented in `argoctl --help`):
//   0 success; 1 the daemon refused or failed the request; 2 a usage error
//   (nothing was sent); 3 the daemon could not be reached in time.
#ifndef TOOLSTACK_API_CLI_COMMAND_H_
#define TOOLSTACK_API_CLI_COMMAND_H_

#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "toolstack_api/toolstack.grpc.pb.h"

namespace argo::toolstack::cli {

enum ExitCode { kOk = 0, kServerError = 1, kUsageError = 2, kUnreachable = 3 };

// A command's parsed arguments: positionals and --options.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // --opt VALUE
  std::map<std::string, bool> flags;                       // --flag

  bool Flag(const std::string& name) const { return flags.count(name) > 0; }
  std::string Value(const std::string& name,
                    const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second.back();
  }
};

// What a command accepts: options taking a value, and boolean flags.
struct OptionSpec {
  std::vector<std::string> with_value;
  std::vector<std::string> flags;
  size_t min_positional = 0;
  size_t max_positional = 0;
};

class Context;

struct Command {
  std::string name;     // "domain create"
  std::string usage;    // "NAME [--id N] ..."
  std::string summary;  // one line
  std::string help;     // the rest of --help
  OptionSpec options;
  std::function<int(Context&, const Args&)> run;
  // Ends on SIGINT/SIGTERM by itself (capture): those are blocked in every
  // thread before the channel starts any, so the command's own watcher
  // takes them (even where a shell left them ignored).
  bool takes_interrupts = false;
};

// A usage error with the command's usage line; nothing is sent.
struct UsageError {
  std::string message;
};

class Context {
 public:
  Context(std::shared_ptr<grpc::Channel> channel, bool json,
          absl::Duration timeout, std::ostream& out, std::ostream& err)
      : stub_(v1::Toolstack::NewStub(channel)),
        json_(json),
        timeout_(timeout),
        out_(out),
        err_(err) {}

  v1::Toolstack::Stub& stub() { return *stub_; }
  bool json() const { return json_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  absl::Duration timeout() const { return timeout_; }

  // A context whose deadline is the command's timeout from now.
  std::unique_ptr<grpc::ClientContext> Call() const;
  // Reports a failed call on stderr and returns its exit code.
  int Failed(const grpc::Status& status) const;
  // Prints `message` as one JSON document (field names as in the .proto).
  void PrintJson(const google::protobuf::Message& message, bool one_line = false);

 private:
  std::unique_ptr<v1::Toolstack::Stub> stub_;
  bool json_;
  absl::Duration timeout_;
  std::ostream& out_;
  std::ostream& err_;
};

// A DOMAIN or DOMAIN:PORT argument; a UsageError if malformed.
v1::DomainRef DomainArg(const std::string& text);
v1::Endpoint EndpointArg(const std::string& text);

// A ring's owner as people know it: its name, else its id.
std::string RingOwner(const v1::Ring& ring);

// Every command, in the order `argoctl --help` lists them.
std::vector<Command> DomainCommands();
std::vector<Command> CableCommands();
std::vector<Command> PolicyCommands();
std::vector<Command> LevelCommands();  // rings, stats, watch, topology, apply
std::vector<Command> CaptureCommands();
std::vector<Command> MeasurementCommands();

// Unary call helper: runs `rpc` with a deadline; on success prints the
// reply as JSON (in --json mode) or with `human`.
template <typename Request, typename Reply, typename Rpc, typename Human>
int Unary(Context& ctx, Rpc rpc, const Request& request, Human human) {
  Reply reply;
  std::unique_ptr<grpc::ClientContext> call = ctx.Call();
  grpc::Status status = (ctx.stub().*rpc)(call.get(), request, &reply);
  if (!status.ok()) return ctx.Failed(status);
  if (ctx.json()) {
    ctx.PrintJson(reply);
  } else {
    human(reply);
  }
  return kOk;
}

// The --help line of --page-size, shared by the list commands.
inline constexpr char kPageSizeHelp[] =
    "  --page-size N  items per call (default the daemon's, 500; at most "
    "1000); every page is fetched and printed";

// --page-size N on a list command: the request's page_size (a UsageError
// for a non-number); absent, the daemon's default.
uint32_t PageSizeArg(const Args& args);

// Calls a paginated list RPC (toolstack.proto) page after page, each call
// with its own deadline, until the daemon returns no next_page_token, and
// merges the pages into *all (repeated fields append; total and the like
// take the last page's value). A daemon that repeats a token is an
// error, not a loop.
template <typename Request, typename Reply, typename Rpc>
grpc::Status ListAll(Context& ctx, Rpc rpc, Request request, Reply* all) {
  std::string token;
  for (;;) {
    request.set_page_token(token);
    Reply page;
    std::unique_ptr<grpc::ClientContext> call = ctx.Call();
    grpc::Status status = (ctx.stub().*rpc)(call.get(), request, &page);
    if (!status.ok()) return status;
    all->MergeFrom(page);
    if (page.next_page_token().empty()) break;
    if (page.next_page_token() == token) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          "argo-hv sent the same page token twice");
    }
    token = page.next_page_token();
  }
  all->clear_next_page_token();
  return grpc::Status::OK;
}

// Unary for list RPCs: follows every page, then prints the whole listing
// once (one JSON document with --json).
template <typename Request, typename Reply, typename Rpc, typename Human>
int Listing(Context& ctx, Rpc rpc, const Request& request, Human human) {
  Reply all;
  grpc::Status status = ListAll(ctx, rpc, request, &all);
  if (!status.ok()) return ctx.Failed(status);
  if (ctx.json()) {
    ctx.PrintJson(all);
  } else {
    human(all);
  }
  return kOk;
}

}  // namespace argo::toolstack::cli

#endif  // TOOLSTACK_API_CLI_COMMAND_H_
