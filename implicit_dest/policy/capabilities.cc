#include "implicit_dest/policy/capabilities.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace argo::policy {
namespace {

struct Named {
  Capability cap;
  const char* name;
};
constexpr Named kNames[] = {
    {kCapControl, "control"},
    {kCapHardware, "hardware"},
    {kCapXenstore, "xenstore"},
};

}  // namespace

absl::StatusOr<Capability> ParseCapability(absl::string_view name) {
  for (const Named& n : kNames) {
    if (name == n.name) return n.cap;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("capability \"", name,
                   "\" is none of control, hardware, xenstore"));
}

std::string CapabilitiesText(uint8_t caps) {
  std::vector<const char*> names;
  for (const Named& n : kNames) {
    if (caps & n.cap) names.push_back(n.name);
  }
  return absl::StrJoin(names, ",");
}

}  // namespace argo::policy
