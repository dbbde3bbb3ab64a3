// Reading policy and boot configuration files on the side that has them
// (argo-hv --config/--policy, argoctl apply/policy load): size-bounded, with
// a configuration's policy_file read beside it, so the daemon never opens a
// client's paths.
#ifndef TOOLSTACK_API_CONFIG_FILE_H_
#define TOOLSTACK_API_CONFIG_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace argo::toolstack {

// The largest configuration or policy text accepted (bounds memory).
inline constexpr size_t kMaxConfigBytes = 1 << 20;
// At most this many domains and cables in one configuration.
inline constexpr int kMaxConfigDomains = 1024;
inline constexpr int kMaxConfigCables = 65536;

// A policy or configuration file, at most kMaxConfigBytes (NotFound or
// InvalidArgument naming the path).
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

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
