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
#include "absl/types/optional.h"
#include "toolstack_api/config.pb.h"
#include "toolstack_api/config_file.h"
#include "toolstack_api/platform.h"

namespace argo::toolstack {

struct AppliedConfig {
  std::vector<DomainRecord> created;
  std::vector<implicit_dest::Cable> installed;
};

// Parses `text` (`name` for messages) and applies it to `platform`; a
// policy_file in it must come with its content in `policy_file_text`
// (LoadConfigFile reads both). On
// error nothing is left changed: InvalidArgument for a bad file
// ("<name>:<line>:<column>: <field>: <what>") — a blank configuration or a
// blank policy in it included (fail closed, see config_file.h) — or the
// status of the step that failed, with its place.
//
// A `parent` block (nesting) is taken only at start (`argo-hv --config`,
// which attaches to the parent with ParentFromConfig first and applies the
// rest with kStart); through the API (argoctl apply, kApi) it is refused,
// since a running level's parent cannot change.
enum class ConfigOrigin { kApi, kStart };
absl::StatusOr<AppliedConfig> ApplyConfig(
    Platform& platform, absl::string_view text, absl::string_view name,
    absl::string_view policy_file_text,
    ConfigOrigin origin = ConfigOrigin::kApi);

// The configuration's `parent` block, checked (nullopt when it has none;
// cpus 0 reads as the default, 2). InvalidArgument as ApplyConfig's
// ("<name>:<line>:<column>: parent.<field>: <what>") for a file that does
// not parse or a field Platform::CheckParentSpec refuses.
absl::StatusOr<absl::optional<ParentSpec>> ParentFromConfig(
    absl::string_view text, absl::string_view name);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_BOOT_CONFIG_H_
