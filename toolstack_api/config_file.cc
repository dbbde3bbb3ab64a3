#include "toolstack_api/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "implicit_dest/policy/text_errors.h"
#include "toolstack_api/config.pb.h"

namespace argo::toolstack {
namespace {

// OS errors at the edge: the status names the path and the reason.
absl::Status ReadError(const std::string& path, int error) {
  const std::string message =
      absl::StrCat("cannot read ", path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

// Closes the descriptor on every path out of ReadTextFile.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

bool IsBlankText(absl::string_view text) {
  bool in_comment = false;
  for (char c : text) {
    if (c == '\n') {
      in_comment = false;
    } else if (in_comment ||
               absl::ascii_isspace(static_cast<unsigned char>(c))) {
      continue;
    } else if (c == '#') {
      in_comment = true;
    } else {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path,
                                         TextKind kind) {
  // Not O_NONBLOCK: a pipe (argoctl policy load <(...)) is read to its end.
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return ReadError(path, errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ReadError(path, errno);
  // open(2) succeeds on a directory and read(2) then fails: say what it is.
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  std::string text;
  // One byte past the bound tells "too large" from "exactly the bound".
  text.resize(kMaxConfigBytes + 1);
  size_t used = 0;
  while (used < text.size()) {
    const ssize_t n = read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ReadError(path, errno);
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  text.resize(used);
  if (text.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is larger than ", kMaxConfigBytes, " bytes"));
  }
  if (IsBlankText(text)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        text.empty() ? ": is empty; " : ": holds only blanks and comments; ",
        kind == TextKind::kPolicy ? kEmptyPolicyAdvice : kEmptyConfigAdvice));
  }
  return text;
}

absl::StatusOr<ConfigFile> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path, TextKind::kConfig);
  if (!text.ok()) return text.status();
  config::v1::Config config;
  google::protobuf::TextFormat::ParseInfoTree tree;
  if (absl::Status s =
          policy::ParseTextWithLocations(*text, path, &config, &tree);
      !s.ok()) {
    return s;
  }
  ConfigFile file{*std::move(text), ""};
  if (config.policy_case() != config::v1::Config::kPolicyFile) return file;
  std::string policy_path = config.policy_file();
  const size_t slash = path.rfind('/');
  if (!policy_path.empty() && policy_path[0] != '/' &&
      slash != std::string::npos) {
    policy_path = path.substr(0, slash + 1) + policy_path;
  }
  if (config.policy_file().empty()) {
    const policy::Locator at(path, &tree);
    return at.Error(config::v1::Config::descriptor(), "policy_file", -1,
                    "policy_file: names no file");
  }
  absl::StatusOr<std::string> policy =
      ReadTextFile(policy_path, TextKind::kPolicy);
  if (!policy.ok()) {
    const policy::Locator at(path, &tree);
    const absl::Status located =
        at.Error(config::v1::Config::descriptor(), "policy_file", -1,
                 policy.status().message());
    return absl::Status(policy.status().code(), located.message());
  }
  file.policy_text = *std::move(policy);
  return file;
}

}  // namespace argo::toolstack
