// The record of access-control denials: a bounded ring of the most recent
// ones plus counters, and one optional listener (the toolstack's event
// stream). Denials are off the fast path; this takes a mutex.
#ifndef IMPLICIT_DEST_POLICY_AUDIT_LOG_H_
#define IMPLICIT_DEST_POLICY_AUDIT_LOG_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "argo_core/mutex.h"
#include "argo_core/public/argo.h"

namespace argo::policy {

struct Denial {
  uint64_t sequence = 0;  // 1, 2, ... over the log's lifetime
  absl::Time when;
  std::string hook;  // "sendv/notify", "register_ring", ...
  domid_t source = 0;
  std::string source_type;
  domid_t target = 0;  // DOMID_XEN when the target is the hypervisor
  std::string target_type;
  std::string permission;  // "SEND_EXPLICIT"
  // Refused by SILO mode (neither domain has a capability), whatever the
  // allow rules grant; `permission` is what was asked for.
  bool silo = false;
  // A second permission the operation needed and also lacked
  // ("SEND_EXPLICIT" for an explicit send missing SEND too), or "".
  std::string also_needed;

  // "dom3 (client_t) -> dom1 (storage_t): SEND_EXPLICIT denied (sendv/notify)"
  std::string Describe() const;
};

class AuditLog {
 public:
  static constexpr size_t kCapacity = 1024;
  using Listener = std::function<void(const Denial&)>;

  // Stamps sequence and time, keeps it, and tells the listener (after the
  // log's lock is released).
  void Record(Denial denial) ABSL_LOCKS_EXCLUDED(mu_);
  // The most recent `max` denials, oldest first.
  std::vector<Denial> Recent(size_t max = kCapacity) const
      ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t total() const ABSL_LOCKS_EXCLUDED(mu_);
  std::map<std::string, uint64_t> CountsByPermission() const
      ABSL_LOCKS_EXCLUDED(mu_);
  void SetListener(Listener listener) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable Mutex mu_;
  std::deque<Denial> recent_ ABSL_GUARDED_BY(mu_);
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, uint64_t> by_permission_ ABSL_GUARDED_BY(mu_);
  Listener listener_ ABSL_GUARDED_BY(mu_);
};

}  // namespace argo::policy

#endif  // IMPLICIT_DEST_POLICY_AUDIT_LOG_H_
