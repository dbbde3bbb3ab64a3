#include "toolstack_api/platform.h"

#include <sys/random.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"

namespace argo::toolstack {
namespace {

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!absl::ascii_islower(name[0]) && !absl::ascii_isdigit(name[0])) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-' &&
        c != '_') {
      return false;
    }
  }
  return true;
}

// 128 random bits, hex: what a guest process presents to attach (§8).
absl::StatusOr<std::string> RandomToken() {
  char bytes[16];
  if (getrandom(bytes, sizeof(bytes), 0) !=
      static_cast<ssize_t>(sizeof(bytes))) {
    return absl::UnavailableError("getrandom failed: no attach token");
  }
  return absl::BytesToHexString(absl::string_view(bytes, sizeof(bytes)));
}

std::string RefName(const DomainRef& ref) {
  if (const std::string* name = absl::get_if<std::string>(&ref)) {
    return absl::StrCat("\"", *name, "\"");
  }
  return absl::StrCat(absl::get<domid_t>(ref));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Platform>> Platform::Create(
    PlatformOptions options) {
  absl::StatusOr<std::unique_ptr<policy::PolicyEngine>> policy =
      options.policy_text.empty()
          ? policy::PolicyEngine::Create()
          : policy::PolicyEngine::Create(options.policy_text, "policy");
  if (!policy.ok()) return policy.status();
  return std::unique_ptr<Platform>(
      new Platform(*std::move(policy), options.notifier));
}

Platform::Platform(std::unique_ptr<policy::PolicyEngine> policy,
                   VirqNotifier* notifier)
    : policy_(std::move(policy)) {
  hv_ = std::make_unique<Hypervisor>(
      HypervisorOptions{}, notifier != nullptr ? notifier : &null_notifier_,
      policy_.get(), &table_);
  directory_ = std::make_unique<implicit_dest::HypervisorDirectory>(hv_.get());
  table_.Bind(directory_.get());
  policy_->SetGracePeriod([hv = hv_.get()] { hv->WaitForHypercalls(); });
}

// The hypervisor's teardown reports to the table and the policy: first.
Platform::~Platform() { hv_.reset(); }

absl::StatusOr<domid_t> Platform::ResolveLocked(const DomainRef& ref) {
  if (const std::string* name = absl::get_if<std::string>(&ref)) {
    auto it = by_name_.find(*name);
    if (it == by_name_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no domain named \"", *name, "\""));
    }
    return it->second;
  }
  const domid_t id = absl::get<domid_t>(ref);
  if (!domains_.contains(id)) {
    return absl::NotFoundError(absl::StrCat("no domain with id ", id));
  }
  return id;
}

absl::StatusOr<domid_t> Platform::Resolve(const DomainRef& ref) {
  MutexLock l(&registry_mu_);
  return ResolveLocked(ref);
}

DomainRecord Platform::RecordLocked(domid_t id) {
  absl::StatusOr<DomainInfo> info = hv_->GetDomainInfo(id);
  return DomainRecord{id, domains_[id].name, policy_->Label(id),
                      info.ok() ? *info : DomainInfo{.domid = id}};
}

absl::StatusOr<std::pair<DomainRecord, std::string>> Platform::CreateDomain(
    const DomainSpec& spec) {
  if (!ValidName(spec.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "domain name \"", spec.name, "\" is invalid: ", kNameRules));
  }
  if (spec.memory_frames == 0 || spec.memory_frames > kMaxMemoryFrames) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory of ", spec.memory_frames, " frames is outside 1..",
                     kMaxMemoryFrames, " (4 KiB frames)"));
  }
  MutexLock l(&registry_mu_);
  if (by_name_.contains(spec.name)) {
    return absl::AlreadyExistsError(absl::StrCat("a domain named \"", spec.name,
                                                 "\" exists (id ",
                                                 by_name_[spec.name], ")"));
  }
  domid_t id = spec.id;
  if (spec.explicit_id || spec.id != 0) {
    if (!IsNormalDomid(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("domid ", id, " is reserved; domains use 0..",
                       DOMID_FIRST_RESERVED - 1));
    }
    if (domains_.contains(id) || hv_->DomainExists(id)) {
      return absl::AlreadyExistsError(absl::StrCat("domid ", id, " is in use"));
    }
  } else {
    id = 1;
    while (id < DOMID_FIRST_RESERVED &&
           (domains_.contains(id) || hv_->DomainExists(id))) {
      ++id;
    }
    if (id == DOMID_FIRST_RESERVED) {
      return absl::ResourceExhaustedError("every domid is in use");
    }
  }
  absl::StatusOr<std::string> token = RandomToken();
  if (!token.ok()) return token.status();
  // The label first: the hypervisor checks ENABLE at creation.
  if (!spec.label.empty()) {
    if (absl::Status s = policy_->Relabel(id, spec.label); !s.ok()) return s;
  }
  absl::Status created = hv_->CreateDomain(
      id, DomainConfig{spec.memory_frames, spec.argo_enabled});
  if (!created.ok()) {
    policy_->Forget(id);
    return created;
  }
  domains_[id] = Entry{spec.name, *std::move(token)};
  by_name_[spec.name] = id;
  return std::make_pair(RecordLocked(id), domains_[id].token);
}

absl::Status Platform::DestroyDomain(const DomainRef& ref) {
  MutexLock l(&registry_mu_);
  absl::StatusOr<domid_t> id = ResolveLocked(ref);
  if (!id.ok()) return id.status();
  if (absl::Status s = hv_->DestroyDomain(*id); !s.ok()) return s;
  by_name_.erase(domains_[*id].name);
  domains_.erase(*id);
  return absl::OkStatus();
}

absl::StatusOr<DomainRecord> Platform::GetDomain(const DomainRef& ref) {
  MutexLock l(&registry_mu_);
  absl::StatusOr<domid_t> id = ResolveLocked(ref);
  if (!id.ok()) return id.status();
  return RecordLocked(*id);
}

std::vector<DomainRecord> Platform::ListDomains() {
  MutexLock l(&registry_mu_);
  std::vector<DomainRecord> out;
  for (domid_t id : hv_->ListDomains()) {
    if (domains_.contains(id)) out.push_back(RecordLocked(id));
  }
  return out;
}

bool Platform::CheckAttachToken(domid_t id, absl::string_view token) {
  MutexLock l(&registry_mu_);
  auto it = domains_.find(id);
  if (it == domains_.end() || token.size() != it->second.token.size()) {
    return false;
  }
  unsigned char diff = 0;  // constant time: no early exit on a mismatch
  for (size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(token[i] ^ it->second.token[i]);
  }
  return diff == 0;
}

}  // namespace argo::toolstack
