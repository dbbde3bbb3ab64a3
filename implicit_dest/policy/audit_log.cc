#include "implicit_dest/policy/audit_log.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace argo::policy {
namespace {

std::string DomainName(domid_t d) {
  return d == DOMID_XEN ? std::string("xen") : absl::StrCat("dom", d);
}

}  // namespace

std::string Denial::Describe() const {
  return absl::StrCat(DomainName(source), " (", source_type, ") -> ",
                      DomainName(target), " (", target_type, "): ", permission,
                      silo ? " denied by SILO mode (" : " denied (", hook, ")");
}

void AuditLog::Record(Denial denial) {
  Listener listener;
  {
    MutexLock l(&mu_);
    denial.sequence = ++total_;
    denial.when = absl::Now();
    ++by_permission_[denial.silo ? "SILO" : denial.permission];
    if (recent_.size() == kCapacity) recent_.pop_front();
    recent_.push_back(denial);
    listener = listener_;
  }
  if (listener) listener(denial);
}

std::vector<Denial> AuditLog::Recent(size_t max) const {
  MutexLock l(&mu_);
  size_t n = std::min(max, recent_.size());
  return std::vector<Denial>(recent_.end() - n, recent_.end());
}

uint64_t AuditLog::total() const {
  MutexLock l(&mu_);
  return total_;
}

std::map<std::string, uint64_t> AuditLog::CountsByPermission() const {
  MutexLock l(&mu_);
  return by_permission_;
}

void AuditLog::SetListener(Listener listener) {
  MutexLock l(&mu_);
  listener_ = std::move(listener);
}

}  // namespace argo::policy
