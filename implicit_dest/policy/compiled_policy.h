// A policy parsed from protobuf text format, validated, and compiled into
// its access vectors: one permission byte per (source type, target type),
// computed once at load. That matrix is the access vector cache: a check
// is two label loads and one byte load.
#ifndef IMPLICIT_DEST_POLICY_COMPILED_POLICY_H_
#define IMPLICIT_DEST_POLICY_COMPILED_POLICY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "argo_core/public/argo.h"
#include "implicit_dest/policy/policy.pb.h"

namespace argo::policy {

using Permission = ::argo::policy::v1::Permission;

// The bit of `p` in an access vector (none for PERMISSION_UNSPECIFIED).
constexpr uint8_t PermissionBit(Permission p) {
  return p == v1::PERMISSION_UNSPECIFIED
             ? 0
             : static_cast<uint8_t>(1u << static_cast<int>(p));
}

// "SEND_EXPLICIT" for SEND_EXPLICIT.
std::string PermissionName(Permission p);

class CompiledPolicy {
 public:
  static constexpr uint32_t kMaxTypes = 1024;
  // Labels are kept for every possible domid.
  static constexpr uint32_t kLabelSlots = DOMID_FIRST_RESERVED;

  // Parses and validates `text`. Errors read "<name>:<line>:<column>:
  // <what>", lines counted from 1. Domains start with the default type.
  static absl::StatusOr<std::unique_ptr<CompiledPolicy>> Compile(
      absl::string_view text, absl::string_view name);

  const v1::Policy& proto() const { return proto_; }
  const std::string& text() const { return text_; }
  bool mac_permissive() const { return proto_.mac_permissive(); }
  bool silo() const { return silo_; }

  // The first allow rule granting `p` from type `s` to type `t`, if any:
  // its index in proto().allow() and where it came from (its origin, or
  // "<name>:<line>").
  struct RuleRef {
    int index;
    std::string origin;
  };
  absl::optional<RuleRef> GrantingRule(uint16_t s, uint16_t t,
                                       Permission p) const;

  // Type indices; the hypervisor ("xen") is a target-only index.
  absl::optional<uint16_t> TypeIndex(absl::string_view name) const;
  // The index of a type a domain may carry: declared, and not "xen".
  absl::optional<uint16_t> DomainTypeIndex(absl::string_view name) const {
    absl::optional<uint16_t> index = TypeIndex(name);
    if (index.has_value() && *index == xen_index_) return absl::nullopt;
    return index;
  }
  uint16_t xen_index() const { return xen_index_; }
  uint16_t default_index() const { return default_index_; }
  const std::string& TypeName(uint16_t index) const { return names_[index]; }

  // The access vector from source type `s` to target type `t`.
  uint8_t Vector(uint16_t s, uint16_t t) const { return av_[s * stride_ + t]; }

  // The label (type index) of each domid. Written by relabelling (engine
  // mutex held), read lock-free on the check path.
  uint16_t Label(domid_t d) const {
    return labels_[d].load(std::memory_order_relaxed);
  }
  // The type a check uses for domain `d`: its label, "xen" for DOMID_XEN,
  // and the default type for any other reserved id.
  uint16_t TypeOf(domid_t d) const {
    if (d == DOMID_XEN) return xen_index_;
    return d < kLabelSlots ? Label(d) : default_index_;
  }
  void SetLabel(domid_t d, uint16_t type) const {
    labels_[d].store(type, std::memory_order_relaxed);
  }

 private:
  CompiledPolicy() = default;

  v1::Policy proto_;
  std::string text_;
  std::vector<std::string> rule_origins_;  // per allow rule
  std::vector<std::string> names_;  // types, then "xen"
  absl::flat_hash_map<std::string, uint16_t> index_;
  uint16_t xen_index_ = 0;
  uint16_t default_index_ = 0;
  uint32_t stride_ = 0;
  bool silo_ = false;  // proto_.silo(), beside what the check path reads
  std::vector<uint8_t> av_;
  std::unique_ptr<std::atomic<uint16_t>[]> labels_;
};

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_COMPILED_POLICY_H_
