#include "implicit_dest/policy/compiled_policy.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "implicit_dest/policy/text_errors.h"

namespace argo::policy {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

constexpr absl::string_view kXen = "xen";
constexpr absl::string_view kAny = "*";

bool IsTypeName(absl::string_view name) {
  if (name.empty() || name.size() > 64 || absl::ascii_isdigit(name[0])) {
    return false;
  }
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string PermissionName(Permission p) { return v1::Permission_Name(p); }

absl::optional<uint16_t> CompiledPolicy::TypeIndex(
    absl::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end()) return absl::nullopt;
  return it->second;
}

absl::optional<CompiledPolicy::RuleRef> CompiledPolicy::GrantingRule(
    uint16_t s, uint16_t t, Permission p) const {
  for (int i = 0; i < proto_.allow_size(); ++i) {
    const v1::Allow& rule = proto_.allow(i);
    if (rule.source() != kAny && rule.source() != names_[s]) continue;
    if (rule.target() != kAny && rule.target() != names_[t]) continue;
    for (int granted : rule.permissions()) {
      if (granted == p) return RuleRef{i, rule_origins_[i]};
    }
  }
  return absl::nullopt;
}

absl::StatusOr<std::unique_ptr<CompiledPolicy>> CompiledPolicy::Compile(
    absl::string_view text, absl::string_view name) {
  std::unique_ptr<CompiledPolicy> policy(new CompiledPolicy());
  TextFormat::ParseInfoTree tree;
  if (absl::Status s = ParseTextWithLocations(text, name, &policy->proto_, &tree);
      !s.ok()) {
    return s;
  }
  const v1::Policy& proto = policy->proto_;
  const auto* descriptor = v1::Policy::descriptor();
  const FieldDescriptor* types_field = descriptor->FindFieldByName("types");
  const FieldDescriptor* allow_field = descriptor->FindFieldByName("allow");
  const FieldDescriptor* default_field =
      descriptor->FindFieldByName("default_type");
  Locator at(name, &tree);

  if (proto.types().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": the policy declares no types"));
  }
  if (proto.types_size() > static_cast<int>(kMaxTypes)) {
    return at.Error(types_field, kMaxTypes,
                    absl::StrCat("more than ", kMaxTypes, " types"));
  }
  for (int i = 0; i < proto.types_size(); ++i) {
    const std::string& type = proto.types(i);
    if (!IsTypeName(type) || type == kXen) {
      return at.Error(types_field, i,
                      absl::StrCat("type \"", type,
                                   "\" must be lower-case letters, digits and "
                                   "_, and not \"xen\""));
    }
    if (!policy->index_.emplace(type, i).second) {
      return at.Error(types_field, i,
                      absl::StrCat("type \"", type, "\" is declared twice"));
    }
    policy->names_.push_back(type);
  }
  policy->xen_index_ = static_cast<uint16_t>(proto.types_size());
  policy->names_.emplace_back(kXen);
  policy->index_.emplace(std::string(kXen), policy->xen_index_);
  policy->stride_ = proto.types_size() + 1;
  policy->av_.assign(policy->stride_ * policy->stride_, 0);

  // "xen" names the hypervisor as a target; no domain may carry it (found
  // by the policy fuzzer: a domain labelled "xen" by default).
  auto default_index = policy->DomainTypeIndex(proto.default_type());
  if (!default_index.has_value()) {
    return at.Error(default_field, -1,
                    absl::StrCat("default_type \"", proto.default_type(),
                                 "\" is not a declared type"));
  }
  policy->default_index_ = *default_index;

  for (int i = 0; i < proto.allow_size(); ++i) {
    const v1::Allow& rule = proto.allow(i);
    const Locator rule_at = at.Nested(allow_field, i);
    const auto* rule_descriptor = v1::Allow::descriptor();
    std::vector<uint16_t> sources, targets;
    if (rule.source() == kAny) {
      for (uint16_t t = 0; t < policy->xen_index_; ++t) sources.push_back(t);
    } else if (auto s = policy->DomainTypeIndex(rule.source());
               s.has_value()) {
      sources.push_back(*s);
    } else {
      return rule_at.Error(rule_descriptor->FindFieldByName("source"), -1,
                           absl::StrCat("source \"", rule.source(),
                                        "\" is not a declared type or \"*\""));
    }
    if (rule.target() == kAny) {
      for (uint16_t t = 0; t <= policy->xen_index_; ++t) targets.push_back(t);
    } else if (auto t = policy->TypeIndex(rule.target())) {
      targets.push_back(*t);
    } else {
      return rule_at.Error(
          rule_descriptor->FindFieldByName("target"), -1,
          absl::StrCat("target \"", rule.target(),
                       "\" is not a declared type, \"xen\" or \"*\""));
    }
    if (rule.permissions().empty()) {
      return rule_at.Error(rule_descriptor->FindFieldByName("source"), -1,
                           "an allow rule grants no permissions");
    }
    uint8_t vector = 0;
    for (int p = 0; p < rule.permissions_size(); ++p) {
      const int value = rule.permissions(p);
      if (value == v1::PERMISSION_UNSPECIFIED ||
          !v1::Permission_IsValid(value)) {
        return rule_at.Error(rule_descriptor->FindFieldByName("permissions"), p,
                             "PERMISSION_UNSPECIFIED grants nothing");
      }
      vector |= PermissionBit(static_cast<Permission>(value));
    }
    for (uint16_t s : sources) {
      for (uint16_t t : targets) policy->av_[s * policy->stride_ + t] |= vector;
    }
    const auto place = tree.GetLocation(allow_field, i);
    policy->rule_origins_.push_back(
        !rule.origin().empty()
            ? rule.origin()
            : absl::StrCat(name, ":", OpeningLine(text, place.line, "allow")));
  }
  policy->silo_ = proto.silo();

  policy->labels_.reset(new std::atomic<uint16_t>[kLabelSlots]);
  for (uint32_t d = 0; d < kLabelSlots; ++d) {
    policy->labels_[d].store(policy->default_index_, std::memory_order_relaxed);
  }
  policy->text_ = std::string(text);
  return policy;
}

}  // namespace argo::policy
