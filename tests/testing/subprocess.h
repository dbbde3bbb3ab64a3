// Running the project's binaries as real processes from tests: one-shot
// commands with captured output and exit code, and background daemons.
#ifndef TESTS_TESTING_SUBPROCESS_H_
#define TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace argo::testing {

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal or not run
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with argv, waits; `uid` >= 0 drops to that uid
// (and its gid) in the child before exec. Output is captured in full.
RunResult RunProcess(const std::vector<std::string>& argv, int uid = -1);

// A process left running: stderr goes to `log_path`.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& argv, const std::string& log_path);
  ~Daemon();  // SIGKILL if still running
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for the exit; returns the exit code (-1 if it
  // died by a signal) or -2 if it did not exit within ~10 s.
  int Stop(int sig);
  // Waits for it to exit by itself (same return values as Stop).
  int Wait();

 private:
  pid_t pid_ = -1;
};

// Polls until `path` exists (true) or ~10 s pass (false).
bool WaitForPath(const std::string& path);
std::string ReadFile(const std::string& path);
// The runfiles path of a built target, e.g. "toolstack_api/argo-hv".
std::string RunfilePath(const std::string& path);

}  // namespace argo::testing

#endif  // TESTS_TESTING_SUBPROCESS_H_
