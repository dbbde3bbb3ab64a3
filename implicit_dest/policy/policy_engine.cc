#include "implicit_dest/policy/policy_engine.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"
#include "argo_core/public/xen_errno.h"

namespace argo::policy {

PolicyEngine::PolicyEngine(std::unique_ptr<CompiledPolicy> initial)
    : current_(initial.release()) {}

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

void PolicyEngine::Forget(domid_t d) {
  if (!IsNormalDomid(d)) return;
  MutexLock l(&mu_);
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
                        const char* hook, Permission also) {
  const CompiledPolicy* policy = current_.load(std::memory_order_acquire);
  const uint16_t s = policy->Label(source);
  const uint16_t t = policy->TypeOf(target);
  const uint8_t needed = PermissionBit(p) | PermissionBit(also);
  const uint8_t vector = policy->Vector(s, t);
  if (__builtin_expect((vector & needed) == needed, 1)) return 0;
  if ((vector & PermissionBit(p)) != 0) p = also;
  Denial denial;
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
  return Check(d, partner, v1::REGISTER_SINGLE_SOURCE, "register_ring");
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
               implicit ? v1::PERMISSION_UNSPECIFIED : v1::SEND_EXPLICIT);
}

int PolicyEngine::QueryEnable(domid_t d) {
  return Permits(d, DOMID_XEN, v1::ENABLE) ? 0 : -XEN_EACCES;
}

int PolicyEngine::QuerySend(domid_t src, domid_t dst, bool implicit) {
  const bool permitted =
      Permits(src, dst, v1::SEND) &&
      (implicit || Permits(src, dst, v1::SEND_EXPLICIT));
  return permitted ? 0 : -XEN_EACCES;
}

}  // namespace argo::policy
