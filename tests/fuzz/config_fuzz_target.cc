// libFuzzer target for boot configurations (§6): any input is either
// applied whole or rejected with a message naming the source, and a
// rejection leaves the level exactly as it was. Domains an input creates
// are destroyed afterwards, so inputs stay independent.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "toolstack_api/boot_config.h"

namespace {

using argo::toolstack::Platform;

std::string State(Platform& p) {
  std::string s;
  for (const auto& d : p.ListDomains()) {
    absl::StrAppend(&s, d.id, d.name, d.label, ";");
  }
  for (const auto& c : p.table().List()) {
    absl::StrAppend(&s, c.from.domid, ":", c.from.port, ">", c.to.domid, ":",
                    c.to.port, ";");
  }
  absl::StrAppend(&s, p.policy().Text());
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Platform* platform = [] {
    auto created = Platform::Create({});
    if (!created.ok()) std::abort();
    auto base = (*created)->CreateDomain({.name = "base", .id = 1});
    if (!base.ok()) std::abort();
    return created->release();
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string before = State(*platform);
  const std::string policy_before = platform->policy().Text();
  auto applied = argo::toolstack::ApplyConfig(*platform, text, "fuzz", "");
  if (!applied.ok()) {
    if (applied.status().message().rfind("fuzz", 0) != 0) std::abort();
    if (State(*platform) != before) std::abort();
    return 0;
  }
  // Undo a success (restore the policy only if it changed: labels reset
  // with their domains).
  for (const auto& d : applied->created) {
    if (!platform->DestroyDomain(d.id).ok()) std::abort();
  }
  for (const auto& c : applied->installed) {
    platform->Disconnect(c.from, true).IgnoreError();  // may be gone already
  }
  if (platform->policy().Text() != policy_before &&
      !platform->LoadPolicy(policy_before, "before").ok()) {
    std::abort();
  }
  if (State(*platform) != before) std::abort();
  return 0;
}
