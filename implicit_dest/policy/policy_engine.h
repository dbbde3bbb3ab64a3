// The Argo access-control policy (DESIGN §5) as the hypervisor's XSM hooks:
// domain labels, the compiled policy (its access vectors are the cache),
// run-time load and relabel, and the audit log of denials.
//
// Thread safety: the hooks (Enable, Send, ...) run concurrently with
// everything and take no lock; Load/Relabel/Forget serialise on mu_. A
// loaded policy replaces the old one with one pointer swap; the old one is
// freed only after the hypervisor's grace period (every hypercall that
// could still read it has finished).
#ifndef IMPLICIT_DEST_POLICY_POLICY_ENGINE_H_
#define IMPLICIT_DEST_POLICY_POLICY_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "argo_core/access_control.h"
#include "argo_core/domain_directory.h"
#include "argo_core/mutex.h"
#include "implicit_dest/policy/audit_log.h"
#include "implicit_dest/policy/compiled_policy.h"
#include "implicit_dest/policy/default_policy.h"

namespace argo::policy {

class PolicyEngine final : public AccessControl {
 public:
  // Compiles `text` (the default policy if empty). The hypervisor's grace
  // period must be bound (BindGracePeriod) before the first Load.
  static absl::StatusOr<std::unique_ptr<PolicyEngine>> Create(
      absl::string_view text = DefaultPolicyText(),
      absl::string_view name = "default.textproto");
  ~PolicyEngine() override;

  // The grace period after which a replaced policy can be freed (the
  // hypervisor's; it must outlive the engine's last Load).
  void BindGracePeriod(GracePeriod* grace_period) ABSL_LOCKS_EXCLUDED(mu_);

  // Replaces the policy. Atomic: a policy that does not compile, or that
  // lacks a type some domain is labelled with, changes nothing.
  absl::Status Load(absl::string_view text, absl::string_view name)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Labels domain `d` with `type` (InvalidArgument for an unknown type or
  // a reserved domid).
  absl::Status Relabel(domid_t d, absl::string_view type)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Resets `d` to the default type (its domain is gone).
  void Forget(domid_t d) ABSL_LOCKS_EXCLUDED(mu_);

  // Capabilities (capabilities.h) of domain `d`, given when it is
  // created (before its first hypercall) and cleared when it is gone.
  // InvalidArgument for a reserved domid or unknown bits.
  absl::Status SetCapabilities(domid_t d, uint8_t caps);
  uint8_t Capabilities(domid_t d) const;

  std::string Label(domid_t d) const;
  // The current policy's text and its generation (1 for the first policy,
  // +1 per successful Load).
  std::string Text() const;
  // The types it declares, in order ("xen" not among them).
  std::vector<std::string> Types() const;
  uint64_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }
  bool mac_permissive() const;
  bool silo() const;

  // The access vector cache's user-space tool (`argoctl policy check`): is
  // `p` allowed, and what decided it ("rule at strict.textproto:25",
  // "SILO mode: ...", "no allow rule grants ..."). By types (SILO is about
  // domains and is not consulted), or by domains (labels, capabilities and
  // SILO, exactly as the hooks decide). InvalidArgument for an unknown
  // type, or a reserved source domid.
  struct Verdict {
    bool allowed = false;
    std::string decided_by;
  };
  absl::StatusOr<Verdict> CheckTypes(absl::string_view source_type,
                                     absl::string_view target_type,
                                     Permission p) const;
  absl::StatusOr<Verdict> CheckDomains(domid_t source, domid_t target,
                                       Permission p) const;

  // A decision without auditing (for `explain`); target DOMID_XEN means the
  // hypervisor.
  bool Permits(domid_t source, domid_t target, Permission p) const;

  AuditLog& audit() { return audit_; }

  // AccessControl (XSM hooks): 0 or -EACCES (-EPERM for a wildcard ring
  // when mac_permissive is off), denials audited.
  int Enable(domid_t d) override;
  int RegisterSingleSource(domid_t d, domid_t partner) override;
  int RegisterAnySource(domid_t d) override;
  int Send(domid_t src, domid_t dst, bool implicit) override;
  // The same decisions, not audited (explain).
  int QueryEnable(domid_t d) override;
  int QuerySend(domid_t src, domid_t dst, bool implicit) override;
  void OnDomainDestroyed(domid_t d) override { Forget(d); }

 private:
  explicit PolicyEngine(std::unique_ptr<CompiledPolicy> initial);

  // 0 if `source` has `p` (and `also`, unless UNSPECIFIED) on `target`,
  // else audits the missing one and returns -EACCES. `pair` says the
  // check is between two domains (send, single-source ring): SILO applies.
  int Check(domid_t source, domid_t target, Permission p, const char* hook,
            Permission also = v1::PERMISSION_UNSPECIFIED, bool pair = false);
  // SILO: two different domains, neither with a capability.
  bool SiloRefuses(domid_t a, domid_t b) const {
    return a != b && (caps_[a].load(std::memory_order_relaxed) |
                      caps_[b].load(std::memory_order_relaxed)) == 0;
  }
  // The verdict for type indices `s`, `t` (no SILO) in `policy`.
  static Verdict RuleVerdict(const CompiledPolicy& policy, uint16_t s,
                             uint16_t t, Permission p);

  mutable Mutex mu_;
  GracePeriod* grace_period_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Explicit labels, so a new policy can be checked against them.
  absl::flat_hash_map<domid_t, std::string> labels_ ABSL_GUARDED_BY(mu_);
  std::atomic<const CompiledPolicy*> current_;  // owned
  std::atomic<uint64_t> generation_{1};
  // Per domid (CompiledPolicy::kLabelSlots); they outlive policy loads.
  std::unique_ptr<std::atomic<uint8_t>[]> caps_;
  AuditLog audit_;
};

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_POLICY_ENGINE_H_
