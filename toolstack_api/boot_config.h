// The boot configuration (§6, config.proto): parsed with every error naming
// its line, column and field, and applied to a Platform all or nothing.
//
// Apply order: the policy, then the domains (labelled at creation), then the
// cables (whose ends may be domains the same file creates). If any step
// fails, the steps already taken are undone in reverse — cables removed,
// domains destroyed, the previous policy restored — and the error names the
// line of the entry that failed. Watchers see the steps and their undoing.
#ifndef TOOLSTACK_API_BOOT_CONFIG_H_
#define TOOLSTACK_API_BOOT_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "toolstack_api/config.pb.h"
#include "toolstack_api/platform.h"

namespace argo::toolstack {

// The largest configuration or policy text accepted (bounds memory).
inline constexpr size_t kMaxConfigBytes = 1 << 20;
// At most this many domains and cables in one configuration.
inline constexpr int kMaxConfigDomains = 1024;
inline constexpr int kMaxConfigCables = 65536;

struct AppliedConfig {
  std::vector<DomainRecord> created;
  std::vector<implicit_dest::Cable> installed;
};

// Reads FILE; if it names a policy_file, reads that (relative to FILE's
// directory) into policy_text. Returns the text to hand to ApplyConfig —
// the daemon never reads client paths. Errors name the file.
absl::StatusOr<std::string> LoadConfigFile(const std::string& path);

// Parses `text` (`name` for messages) and applies it to `platform`. On
// error nothing is left changed: InvalidArgument for a bad file
// ("<name>:<line>:<column>: <field>: <what>"), or the status of the step
// that failed, with its place.
absl::StatusOr<AppliedConfig> ApplyConfig(Platform& platform,
                                          absl::string_view text,
                                          absl::string_view name);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_BOOT_CONFIG_H_
