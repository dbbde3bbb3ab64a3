// argo-guest's commands and what they share: the attach (done only after
// a command has checked all its arguments, so a usage error sends
// nothing), the output streams, and the exit codes.
//
// Exit codes (as argoctl's): 0 done; 1 the hypervisor refused (the worded
// Xen error is printed); 2 usage error (nothing sent); 3 argo-hv could not
// be reached, refused the attach, or went away.
#ifndef GUEST_CLI_COMMAND_H_
#define GUEST_CLI_COMMAND_H_

#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "guest/attachment.h"
#include "guest/cli/cli_args.h"
#include "guest/guest.h"

namespace argo::guest::cli {

enum ExitCode { kOk = 0, kRefused = 1, kUsageError = 2, kUnreachable = 3 };

class Context {
 public:
  Context(AttachOptions attach, bool verbose, absl::Duration timeout,
          std::ostream& out, std::ostream& err)
      : attach_(std::move(attach)),
        verbose_(verbose),
        timeout_(timeout),
        out_(out),
        err_(err) {}

  // Attaches (once). On failure prints why and returns null: exit with
  // kUnreachable.
  Guest* Attach();
  // Prints a failed call's status ("argo-guest: ECONNREFUSED: port 7 is
  // not cabled") and returns its exit code: kUnreachable if argo-hv went
  // away (EIO), else kRefused.
  int Fail(const absl::Status& status);
  // A usage error found while checking a command's arguments.
  int Usage(const std::string& message);

  bool verbose() const { return verbose_; }
  // How long a send waits for space, or ping for a reply.
  absl::Duration timeout() const { return timeout_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

 private:
  const AttachOptions attach_;
  const bool verbose_;
  const absl::Duration timeout_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<Guest> guest_;
};

struct Command {
  std::string name;
  std::string usage;  // after "argo-guest [GLOBAL] NAME "
  std::string help;   // the rest of `NAME --help`
  OptionSpec options;
  std::function<int(Context&, const Args&)> run;
};

std::vector<Command> SendListenCommands();
std::vector<Command> PingPongCommands();

// Reads every message waiting on `ring`, calls `each` on it, and sends a
// NULL notify if any was read (senders waiting for space wake). Returns
// the number read (stopping early once `each` returns false), or the
// failed call's status.
absl::StatusOr<int> DrainRing(
    Guest& guest, GuestRing* ring,
    const std::function<bool(ReceivedMessage&)>& each);

}  // namespace argo::guest::cli

#endif  // GUEST_CLI_COMMAND_H_
