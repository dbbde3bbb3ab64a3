#include "implicit_dest/policy/policy_advisor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace argo::policy {
namespace {

// The permissions a denial asks for: the one denied, and the one it also
// lacked.
std::vector<std::string> Needed(const Denial& d) {
  std::vector<std::string> needed = {d.permission};
  if (!d.also_needed.empty()) needed.push_back(d.also_needed);
  return needed;
}

std::string Rule(const std::string& source, const std::string& target,
                 const std::vector<std::string>& permissions) {
  return absl::StrCat("allow { source: \"", source, "\" target: \"", target,
                      "\" permissions: [", absl::StrJoin(permissions, ", "),
                      "] }");
}

}  // namespace

std::vector<DenialReason> ExplainDenials(absl::Span<const Denial> denials) {
  std::vector<DenialReason> out;
  out.reserve(denials.size());
  for (const Denial& d : denials) {
    DenialReason r;
    r.denial = d;
    if (d.silo) {
      r.missing = absl::StrCat("SILO mode: neither dom", d.source, " nor dom",
                               d.target,
                               " has a capability (no allow rule can "
                               "permit it; a service domain needs one)");
    } else {
      r.missing = absl::StrCat(absl::StrJoin(Needed(d), " and "), " from ",
                               d.source_type, " to ", d.target_type);
      r.rule = Rule(d.source_type, d.target_type, Needed(d));
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string SuggestRules(absl::Span<const Denial> denials) {
  // (source type, target type) -> permissions, in first-seen order.
  std::vector<std::pair<std::pair<std::string, std::string>,
                        std::vector<std::string>>>
      rules;
  size_t silo = 0;
  for (const Denial& d : denials) {
    if (d.silo) {
      ++silo;
      continue;
    }
    const std::pair<std::string, std::string> key = {d.source_type,
                                                     d.target_type};
    auto it = rules.begin();
    while (it != rules.end() && it->first != key) ++it;
    if (it == rules.end()) {
      rules.push_back({key, {}});
      it = rules.end() - 1;
    }
    for (const std::string& p : Needed(d)) {
      bool have = false;
      for (const std::string& q : it->second) have = have || q == p;
      if (!have) it->second.push_back(p);
    }
  }
  std::string out;
  for (const auto& [key, permissions] : rules) {
    absl::StrAppend(&out, Rule(key.first, key.second, permissions), "\n");
  }
  if (silo != 0) {
    absl::StrAppend(&out, "# ", silo,
                    " denial(s) by SILO mode: no allow rule can permit "
                    "them\n");
  }
  return out;
}

}  // namespace argo::policy
