// libFuzzer target for policy text: any input either compiles into a
// policy whose every access vector is consistent, or fails with a message
// that names the source; loading it into an engine in use either takes
// effect whole or changes nothing. The input also goes through module
// assembly (split at "\n---\n" into a core and an optional module): a
// refusal names a module file, an assembly compiles and every rule names
// its origin; and a SILO policy never lets two domains without a
// capability talk.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "argo_core/public/xen_errno.h"
#include "implicit_dest/policy/compiled_policy.h"
#include "implicit_dest/policy/policy_engine.h"
#include "implicit_dest/policy/policy_modules.h"

namespace {

void FuzzAssembly(const std::string& text) {
  using argo::policy::PolicyModule;
  const size_t cut = text.find("\n---\n");
  const PolicyModule core{"core", "core.textproto", text.substr(0, cut)};
  const PolicyModule module{
      "opt", "opt.textproto",
      cut == std::string::npos ? std::string() : text.substr(cut + 5)};
  auto assembled = argo::policy::AssemblePolicy(core, {module});
  if (!assembled.ok()) {
    const auto m = assembled.status().message();
    if (!absl::StartsWith(m, "core.textproto") &&
        !absl::StartsWith(m, "opt.textproto") &&
        !absl::StartsWith(m, "assembled(core.textproto)")) {
      std::abort();
    }
    return;
  }
  auto compiled = argo::policy::CompiledPolicy::Compile(*assembled, "a");
  if (!compiled.ok()) std::abort();
  for (const auto& rule : (*compiled)->proto().allow()) {
    if (!absl::StartsWith(rule.origin(), "core.textproto:") &&
        !absl::StartsWith(rule.origin(), "opt.textproto:")) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using argo::policy::CompiledPolicy;
  using argo::policy::PolicyEngine;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto compiled = CompiledPolicy::Compile(text, "fuzz");
  if (!compiled.ok()) {
    if (compiled.status().message().rfind("fuzz", 0) != 0) std::abort();
  } else {
    const CompiledPolicy& p = **compiled;
    if (p.default_index() >= p.xen_index()) std::abort();
    for (uint16_t s = 0; s < p.xen_index(); ++s) {
      for (uint16_t t = 0; t <= p.xen_index(); ++t) {
        if (p.Vector(s, t) & 1) std::abort();  // bit 0 is UNSPECIFIED
      }
    }
  }
  struct NoHypercalls final : argo::GracePeriod {
    void WaitForHypercalls() override {}
  };
  static PolicyEngine* engine = [] {
    auto created = PolicyEngine::Create();
    if (!created.ok()) std::abort();
    // No hypervisor: no hypercall can hold the old policy.
    static NoHypercalls no_hypercalls;
    (*created)->BindGracePeriod(&no_hypercalls);
    return created->release();
  }();
  FuzzAssembly(text);
  const uint64_t generation = engine->generation();
  const std::string before = engine->Text();
  absl::Status loaded = engine->Load(text, "fuzz");
  if (loaded.ok() != compiled.ok()) std::abort();
  if (!loaded.ok() &&
      (engine->generation() != generation || engine->Text() != before)) {
    std::abort();
  }
  // Domains 1 and 2 never get a capability here: SILO keeps them apart.
  if (loaded.ok() && engine->silo()) {
    for (auto p : {argo::policy::v1::SEND, argo::policy::v1::SEND_EXPLICIT,
                   argo::policy::v1::REGISTER_SINGLE_SOURCE}) {
      auto verdict = engine->CheckDomains(1, 2, p);
      if (!verdict.ok() || verdict->allowed) std::abort();
    }
    if (engine->Send(1, 2, true) != -XEN_EACCES) std::abort();
  }
  return 0;
}
