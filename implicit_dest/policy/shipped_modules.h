// The policy modules shipped with the project (implicit_dest/policy/
// modules/), embedded in every binary like the default policy: "core",
// "storage", "monitoring". Reviewed in docs/policy_review.md.
#ifndef IMPLICIT_DEST_POLICY_SHIPPED_MODULES_H_
#define IMPLICIT_DEST_POLICY_SHIPPED_MODULES_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "implicit_dest/policy/policy_modules.h"

namespace argo::policy {

absl::string_view CoreModuleText();
absl::string_view StorageModuleText();
absl::string_view MonitoringModuleText();

// The core module first.
inline std::vector<PolicyModule> ShippedModules() {
  return {
      {"core", "core.textproto", std::string(CoreModuleText())},
      {"storage", "storage.textproto", std::string(StorageModuleText())},
      {"monitoring", "monitoring.textproto",
       std::string(MonitoringModuleText())},
  };
}

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_SHIPPED_MODULES_H_
