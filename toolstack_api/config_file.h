// Reading policy and boot configuration files on the side that has them
// (argo-hv --config/--policy, argoctl apply/policy load): size-bounded, with
// a configuration's policy_file read beside it, so the daemon never opens a
// client's paths.
//
// Fail closed: a directory, an empty file or one holding only blanks and
// comments is refused with a message naming the path — never read as ""
// (which the platform takes to mean "the permissive default policy") nor
// as a configuration that changes nothing. An empty policy file is a
// mistake (a truncated write, a wrong path), not a request for no policy.
#ifndef TOOLSTACK_API_CONFIG_FILE_H_
#define TOOLSTACK_API_CONFIG_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace argo::toolstack {

// The largest configuration or policy text accepted (bounds memory).
inline constexpr size_t kMaxConfigBytes = 1 << 20;
// At most this many domains and cables in one configuration.
inline constexpr int kMaxConfigDomains = 1024;
inline constexpr int kMaxConfigCables = 65536;

// What a text file holds: chooses the advice in a refusal.
enum class TextKind { kPolicy, kConfig };

// The advice given wherever a blank text of `kind` is refused.
inline constexpr char kEmptyPolicyAdvice[] =
    "an empty policy is not 'no policy' — use @default or the default policy "
    "file (implicit_dest/policy/default.textproto)";
inline constexpr char kEmptyConfigAdvice[] =
    "an empty configuration is refused, not applied as 'nothing to do' — "
    "check the file";

// True iff `text` holds nothing but whitespace and '#' comments, i.e. it
// would parse as an empty message. (A '#' inside a string starts no comment,
// but a string needs a line that starts with something else first.)
bool IsBlankText(absl::string_view text);

// A policy or configuration file, at most kMaxConfigBytes. Errors name the
// path: NotFound (missing), PermissionDenied (unreadable), InvalidArgument
// ("PATH: is a directory", "PATH: is empty; <advice>", too large).
// Returns text for which IsBlankText is false.
absl::StatusOr<std::string> ReadTextFile(const std::string& path,
                                         TextKind kind);

struct ConfigFile {
  std::string text;         // the file as written (error lines refer to it)
  std::string policy_text;  // the content of its policy_file, if it has one
};

// Reads FILE and, if it names a policy_file, that file (relative to FILE's
// directory): what ApplyConfig takes — the daemon never reads client paths.
// Errors name the file and, for the policy file, the line naming it.
absl::StatusOr<ConfigFile> LoadConfigFile(const std::string& path);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_CONFIG_FILE_H_
