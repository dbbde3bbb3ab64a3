// libFuzzer target for policy text: any input either compiles into a
// policy whose every access vector is consistent, or fails with a message
// that names the source; loading it into an engine in use either takes
// effect whole or changes nothing.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "implicit_dest/policy/compiled_policy.h"
#include "implicit_dest/policy/policy_engine.h"

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
  const uint64_t generation = engine->generation();
  const std::string before = engine->Text();
  absl::Status loaded = engine->Load(text, "fuzz");
  if (loaded.ok() != compiled.ok()) std::abort();
  if (!loaded.ok() &&
      (engine->generation() != generation || engine->Text() != before)) {
    std::abort();
  }
  return 0;
}
