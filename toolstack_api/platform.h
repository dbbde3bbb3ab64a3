// The state one argo-hv level owns (DESIGN §6): the hypervisor, the
// implicit-destination table and the policy engine wired together, plus
// what only the toolstack knows about domains — their names and attach
// tokens. The gRPC service is a thin adapter over this class.
//
// Thread safety: all methods may be called concurrently; registry_mu_
// serialises the domain registry. Lock order: registry_mu_ before any
// hypervisor, table or policy lock (none of those calls back here).
#ifndef TOOLSTACK_API_PLATFORM_H_
#define TOOLSTACK_API_PLATFORM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/variant.h"
#include "argo_core/hypervisor.h"
#include "argo_core/mutex.h"
#include "argo_core/virq_notifier.h"
#include "implicit_dest/hypervisor_directory.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/policy_engine.h"

namespace argo::toolstack {

// A domain named by the toolstack's name for it or by its domid.
using DomainRef = absl::variant<std::string, domid_t>;

struct DomainSpec {
  std::string name;          // required; see Platform::kNameRules
  domid_t id = 0;            // 0: the lowest free id (dom0 is never chosen)
  bool explicit_id = false;  // true: use `id` as given, 0 included
  uint64_t memory_frames = 256;
  std::string label;  // "": the policy's default type
  bool argo_enabled = true;
};

struct DomainRecord {
  domid_t id;
  std::string name;
  std::string label;
  DomainInfo info;
};

struct PlatformOptions {
  std::string policy_text;  // "": the embedded default policy
  // The hypervisor's VIRQ sink (the attach endpoint's eventfds, later).
  VirqNotifier* notifier = nullptr;
};

class Platform {
 public:
  static constexpr const char* kNameRules =
      "1 to 64 characters: lower-case letters, digits, '-' and '_', starting "
      "with a letter or digit";
  // The largest guest memory the toolstack hands out (1 GiB).
  static constexpr uint64_t kMaxMemoryFrames = uint64_t{1} << 18;

  static absl::StatusOr<std::unique_ptr<Platform>> Create(
      PlatformOptions options);
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // Labels and creates a domain; returns it and its attach token. Checks
  // everything first (InvalidArgument, AlreadyExists, ResourceExhausted);
  // on error nothing is created or labelled.
  absl::StatusOr<std::pair<DomainRecord, std::string>> CreateDomain(
      const DomainSpec& spec) ABSL_LOCKS_EXCLUDED(registry_mu_);
  // Tears the domain down (its rings, waits, cables and label go with it).
  absl::Status DestroyDomain(const DomainRef& ref)
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  absl::StatusOr<DomainRecord> GetDomain(const DomainRef& ref)
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  std::vector<DomainRecord> ListDomains() ABSL_LOCKS_EXCLUDED(registry_mu_);
  // The domid `ref` names (NotFound with the name or id otherwise).
  absl::StatusOr<domid_t> Resolve(const DomainRef& ref)
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  // True iff `token` is the attach token of domain `id` (constant time).
  bool CheckAttachToken(domid_t id, absl::string_view token)
      ABSL_LOCKS_EXCLUDED(registry_mu_);

  Hypervisor& hypervisor() { return *hv_; }
  implicit_dest::ImplicitTable& table() { return table_; }
  policy::PolicyEngine& policy() { return *policy_; }

 private:
  struct Entry {
    std::string name;
    std::string token;
  };

  explicit Platform(std::unique_ptr<policy::PolicyEngine> policy,
                    VirqNotifier* notifier);
  absl::StatusOr<domid_t> ResolveLocked(const DomainRef& ref)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu_);
  DomainRecord RecordLocked(domid_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu_);

  NullVirqNotifier null_notifier_;
  implicit_dest::ImplicitTable table_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<Hypervisor> hv_;
  std::unique_ptr<implicit_dest::HypervisorDirectory> directory_;

  Mutex registry_mu_;
  absl::flat_hash_map<domid_t, Entry> domains_ ABSL_GUARDED_BY(registry_mu_);
  absl::flat_hash_map<std::string, domid_t> by_name_
      ABSL_GUARDED_BY(registry_mu_);
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_PLATFORM_H_
