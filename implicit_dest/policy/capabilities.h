// Domain capabilities (issue 10): what a domain is for the platform —
// the control domain, the hardware domain, the xenstore domain. Given at
// creation only and never changed; the policy, not the capability,
// decides what a domain may do (a capability matters only to SILO mode).
#ifndef IMPLICIT_DEST_POLICY_CAPABILITIES_H_
#define IMPLICIT_DEST_POLICY_CAPABILITIES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace argo::policy {

enum Capability : uint8_t {
  kCapControl = 1,
  kCapHardware = 2,
  kCapXenstore = 4,
};
inline constexpr uint8_t kAllCapabilities =
    kCapControl | kCapHardware | kCapXenstore;

// "control", "hardware", "xenstore".
absl::StatusOr<Capability> ParseCapability(absl::string_view name);
// "control,xenstore"; "" for none.
std::string CapabilitiesText(uint8_t caps);

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_CAPABILITIES_H_
