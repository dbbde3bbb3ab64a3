#include "implicit_dest/policy/policy_engine.h"

#include "implicit_dest/policy/capabilities.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"
#include "argo_core/public/xen_errno.h"

namespace argo::policy {

PolicyEngine::PolicyEngine(std::unique_ptr<CompiledPolicy> initial)
    : current_(initial.release()),
      caps_(new std::atomic<uint8_t>[CompiledPolicy::kLabelSlots]) {
  for (uint32_t d = 0; d < CompiledPolicy::kLabelSlots; ++d) {
    caps_[d].store(0, std::memory_order_relaxed);
  }
}

PolicyEngine::~PolicyEngine() {
  delete current_.load(std::memory_order_relaxed);
}

absl::StatusOr<std::unique_ptr<PolicyEngine>> PolicyEngine::Create(
    absl::string_view text, absl::string_view name) {
  absl::StatusOr<std::unique_ptr<CompiledPolicy>> compiled =
      CompiledPolicy::Compile(text.empty() ? DefaultPolicyText() : text, name);
  if (!compiled.ok()) return compiled.status();
  return std::unique_ptr<PolicyEngine>(new PolicyEngine(*std::move(compiled)));
}

void PolicyEngine::BindGracePeriod(GracePeriod* grace_period) {
  MutexLock l(&mu_);
  grace_period_ = grace_period;
}

absl::Status PolicyEngine::Load(absl::string_view text,
                                absl::string_view name) {
  absl::StatusOr<std::unique_ptr<CompiledPolicy>> compiled =
      CompiledPolicy::Compile(text, name);
  if (!compiled.ok()) return compiled.status();
  GracePeriod* grace;
  const CompiledPolicy* old;
  {
    MutexLock l(&mu_);
    if (grace_period_ == nullptr) {
      return absl::FailedPreconditionError(
          "policy engine has no grace period bound (BindGracePeriod)");
    }
    // Carry every label over; a label the new policy lacks fails the load.
    for (const auto& [domid, type] : labels_) {
      absl::optional<uint16_t> index = (*compiled)->DomainTypeIndex(type);
      if (!index.has_value()) {
        return absl::FailedPreconditionError(absl::StrCat(
            name, ": domain ", domid, " is labelled \"", type,
            "\", which this policy does not declare; relabel it first"));
      }
      (*compiled)->SetLabel(domid, *index);
    }
    old = current_.exchange(compiled->release(), std::memory_order_acq_rel);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    DecisionsChanged();
    grace = grace_period_;
  }
  // Every hook that could still read the old policy runs inside a
  // hypercall (or under L1 for domain creation): wait them out.
  grace->WaitForHypercalls();
  delete old;
  return absl::OkStatus();
}

absl::Status PolicyEngine::Relabel(domid_t d, absl::string_view type) {
  if (!IsNormalDomid(d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("domid ", d, " is reserved and has no label"));
  }
  MutexLock l(&mu_);
  const CompiledPolicy* policy = current_.load(std::memory_order_acquire);
  absl::optional<uint16_t> index = policy->DomainTypeIndex(type);
  if (!index.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "type \"", type, "\" is not declared by the current policy"));
  }
  policy->SetLabel(d, *index);
  labels_[d] = std::string(type);
  DecisionsChanged();
  return absl::OkStatus();
}

absl::Status PolicyEngine::SetCapabilities(domid_t d, uint8_t caps) {
  if (!IsNormalDomid(d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("domid ", d, " is reserved and has no capabilities"));
  }
  if ((caps & ~kAllCapabilities) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown capability bits 0x", absl::Hex(caps)));
  }
  MutexLock l(&mu_);
  caps_[d].store(caps, std::memory_order_relaxed);
  DecisionsChanged();
  return absl::OkStatus();
}

uint8_t PolicyEngine::Capabilities(domid_t d) const {
  return IsNormalDomid(d) ? caps_[d].load(std::memory_order_relaxed) : 0;
}

void PolicyEngine::Forget(domid_t d) {
  if (!IsNormalDomid(d)) return;
  MutexLock l(&mu_);
  caps_[d].store(0, std::memory_order_relaxed);
  const CompiledPolicy* policy = current_.load(std::memory_order_acquire);
  policy->SetLabel(d, policy->default_index());
  DecisionsChanged();
  labels_.erase(d);
}

std::string PolicyEngine::Label(domid_t d) const {
  MutexLock l(&mu_);
  const CompiledPolicy* policy = current_.load(std::memory_order_acquire);
  return IsNormalDomid(d) ? policy->TypeName(policy->Label(d)) : "xen";
}

std::string PolicyEngine::Text() const {
  MutexLock l(&mu_);
  return current_.load(std::memory_order_acquire)->text();
}

std::vector<std::string> PolicyEngine::Types() const {
  MutexLock l(&mu_);
  const auto& types = current_.load(std::memory_order_acquire)->proto().types();
  return std::vector<std::string>(types.begin(), types.end());
}

bool PolicyEngine::mac_permissive() const {
  MutexLock l(&mu_);
  return current_.load(std::memory_order_acquire)->mac_permissive();
}

bool PolicyEngine::silo() const {
  MutexLock l(&mu_);
  return current_.load(std::memory_order_acquire)->silo();
}

PolicyEngine::Verdict PolicyEngine::RuleVerdict(const CompiledPolicy& policy,
                                                uint16_t s, uint16_t t,
                                                Permission p) {
  Verdict v;
  absl::optional<CompiledPolicy::RuleRef> rule =
      policy.GrantingRule(s, t, p);
  v.allowed = rule.has_value();
  v.decided_by =
      rule.has_value()
          ? absl::StrCat("rule at ", rule->origin)
          : absl::StrCat("no allow rule grants ", PermissionName(p), " from ",
                         policy.TypeName(s), " to ", policy.TypeName(t));
  return v;
}

absl::StatusOr<PolicyEngine::Verdict> PolicyEngine::CheckTypes(
    absl::string_view source_type, absl::string_view target_type,
    Permission p) const {
  MutexLock l(&mu_);
  const CompiledPolicy* policy = current_.load(std::memory_order_acquire);
  absl::optional<uint16_t> s = policy->DomainTypeIndex(source_type);
  absl::optional<uint16_t> t = policy->TypeIndex(target_type);
  if (!s.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source type \"", source_type, "\" is not declared by the policy"));
  }
  if (!t.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("target type \"", target_type,
                     "\" is not declared by the policy (nor \"xen\")"));
  }
  return RuleVerdict(*policy, *s, *t, p);
}

absl::StatusOr<PolicyEngine::Verdict> PolicyEngine::CheckDomains(
    domid_t source, domid_t target, Permission p) const {
  if (!IsNormalDomid(source)) {
    return absl::InvalidArgumentError(
        absl::StrCat("source domid ", source, " is reserved"));
  }
  MutexLock l(&mu_);
  const CompiledPolicy* policy = current_.load(std::memory_order_acquire);
  const bool pair = (p == v1::SEND || p == v1::SEND_EXPLICIT ||
                     p == v1::REGISTER_SINGLE_SOURCE) &&
                    IsNormalDomid(target);
  if (pair && policy->silo() && SiloRefuses(source, target)) {
    return Verdict{false, absl::StrCat("SILO mode: neither dom", source,
                                       " nor dom", target,
                                       " has a capability")};
  }
  Verdict v = RuleVerdict(*policy, policy->Label(source),
                          policy->TypeOf(target), p);
  if (v.allowed && pair && policy->silo()) {
    absl::StrAppend(&v.decided_by, " (SILO mode: a capability allows it)");
  }
  return v;
}

bool PolicyEngine::Permits(domid_t source, domid_t target, Permission p) const {
  MutexLock l(&mu_);  // keeps the policy alive without a grace period
  const CompiledPolicy* policy = current_.load(std::memory_order_acquire);
  if (!IsNormalDomid(source)) return false;
  return (policy->Vector(policy->Label(source), policy->TypeOf(target)) &
          PermissionBit(p)) != 0;
}

// The check path: one pointer load, two label loads, one byte load. `p` is
// the permission audited if denied; `also` (optional) must be granted too
// and is audited instead if only it is missing.
int PolicyEngine::Check(domid_t source, domid_t target, Permission p,
                        const char* hook, Permission also, bool pair) {
  const CompiledPolicy* policy = current_.load(std::memory_order_acquire);
  const uint16_t s = policy->Label(source);
  const uint16_t t = policy->TypeOf(target);
  const uint8_t needed = PermissionBit(p) | PermissionBit(also);
  const uint8_t vector = policy->Vector(s, t);
  // SILO only removes: checked after the vector, one predictable branch
  // for a policy without it.
  const bool silo_refuses =
      __builtin_expect(policy->silo(), 0) && pair && SiloRefuses(source, target);
  if (__builtin_expect((vector & needed) == needed && !silo_refuses, 1)) {
    return 0;
  }
  Denial denial;
  if (!silo_refuses && (vector & PermissionBit(p)) != 0) {
    p = also;
  } else if (also != v1::PERMISSION_UNSPECIFIED &&
             (vector & PermissionBit(also)) == 0) {
    denial.also_needed = PermissionName(also);
  }
  denial.silo = silo_refuses;
  denial.hook = hook;
  denial.source = source;
  denial.source_type = policy->TypeName(s);
  denial.target = target;
  denial.target_type = policy->TypeName(t);
  denial.permission = PermissionName(p);
  audit_.Record(std::move(denial));
  return -XEN_EACCES;
}

int PolicyEngine::Enable(domid_t d) {
  return Check(d, DOMID_XEN, v1::ENABLE, "argo_op");
}

int PolicyEngine::RegisterSingleSource(domid_t d, domid_t partner) {
  return Check(d, partner, v1::REGISTER_SINGLE_SOURCE, "register_ring",
               v1::PERMISSION_UNSPECIFIED, /*pair=*/IsNormalDomid(partner));
}

int PolicyEngine::RegisterAnySource(domid_t d) {
  // Xen: without mac-permissive, wildcard rings are refused outright.
  if (!current_.load(std::memory_order_acquire)->mac_permissive()) {
    return -XEN_EPERM;
  }
  return Check(d, DOMID_XEN, v1::REGISTER_ANY_SOURCE, "register_ring");
}

int PolicyEngine::Send(domid_t src, domid_t dst, bool implicit) {
  // One lookup for both: SEND, and SEND_EXPLICIT unless implicit.
  return Check(src, dst, v1::SEND, "sendv/notify",
               implicit ? v1::PERMISSION_UNSPECIFIED : v1::SEND_EXPLICIT,
               /*pair=*/true);
}

int PolicyEngine::QueryEnable(domid_t d) {
  return Permits(d, DOMID_XEN, v1::ENABLE) ? 0 : -XEN_EACCES;
}

int PolicyEngine::QuerySend(domid_t src, domid_t dst, bool implicit) {
  {
    MutexLock l(&mu_);
    if (current_.load(std::memory_order_acquire)->silo() &&
        IsNormalDomid(src) && IsNormalDomid(dst) && SiloRefuses(src, dst)) {
      return -XEN_EACCES;
    }
  }
  const bool permitted =
      Permits(src, dst, v1::SEND) &&
      (implicit || Permits(src, dst, v1::SEND_EXPLICIT));
  return permitted ? 0 : -XEN_EACCES;
}

}  // namespace argo::policy
