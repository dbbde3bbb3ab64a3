// One level of the stack (DESIGN §2, §7): a hypervisor with its implicit-
// destination table and its access-control policy, wired together once.
// Everything that runs a level builds it here — the argo-hv daemon (through
// toolstack::Platform), the nesting simulator, tests, the demo, benchmarks
// and fuzz targets — so the wiring, the grace period and the teardown order
// exist in one place.
//
// Wiring: the hypervisor calls the table (implicit resolver) and the policy
// engine (XSM hooks); both reclaim memory after the hypervisor's grace
// period (one mechanism: Hypervisor as DomainDirectory / GracePeriod).
//
// Teardown order (~Level): the hypervisor first — destroying its domains
// reports each to the table, the policy and the ring observer, which must
// all still be alive — then the table, then the policy engine.
//
// Thread safety: as the parts (every method may be called concurrently).
#ifndef NESTING_LEVEL_H_
#define NESTING_LEVEL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "argo_core/hypervisor.h"
#include "argo_core/ring_observer.h"
#include "argo_core/virq_notifier.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/policy_engine.h"
#include "implicit_dest/route_explainer.h"

namespace argo::nesting {

struct LevelOptions {
  // The policy's text ("" = the embedded default policy) and the name its
  // errors use.
  std::string policy_text;
  std::string policy_name = "default.textproto";
  // false: no access-control hooks at all (Xen without XSM) — the
  // baseline the policy's cost is measured against. policy() is then null.
  bool access_control = true;
  // Where VIRQs go (null: dropped, for callers that poll). Must outlive
  // the level.
  VirqNotifier* notifier = nullptr;
  // Told of ring changes (null: nobody). Must outlive the level.
  RingObserver* ring_observer = nullptr;
  // Xen's opt_argo_mac_permissive: may domains register wildcard rings.
  bool wildcard_rings_permitted = true;
  // Kernel mappings the level's ring windows may hold.
  uint64_t max_window_segments = HypervisorOptions{}.max_window_segments;
};

class Level {
 public:
  // InvalidArgument (with line:column) for a policy that does not compile.
  static absl::StatusOr<std::unique_ptr<Level>> Create(LevelOptions options);
  ~Level();
  Level(const Level&) = delete;
  Level& operator=(const Level&) = delete;

  Hypervisor& hypervisor() { return *hv_; }
  // Where the level's VIRQs go (the null notifier if none was given).
  VirqNotifier& notifier() { return *notifier_; }
  implicit_dest::ImplicitTable& table() { return table_; }
  // Null when the level was built without access control.
  policy::PolicyEngine* policy() { return policy_.get(); }

  // Labels (if `label` is not empty), gives capabilities
  // (policy/capabilities.h; only ever at creation) and creates a domain.
  // Label and capabilities go first because the hypervisor checks ENABLE
  // at creation; on any error nothing is left labelled or created. A level
  // without access control has no use for capabilities and ignores them.
  absl::Status CreateDomain(domid_t domid, const DomainConfig& config,
                            absl::string_view label = {},
                            uint8_t capabilities = 0);
  // A guest crashed (DESIGN §8): its Argo state is reset; the domain, its
  // memory, label and cables remain, ready for a new guest.
  absl::Status CrashDomain(domid_t domid);
  // The domain and everything of it go: rings, waits, cables, label.
  absl::Status DestroyDomain(domid_t domid);
  // Back to an empty level: every domain destroyed (which empties the
  // table) and the policy's labels forgotten. Cheap enough to run between
  // fuzz inputs; the policy text stays as loaded.
  void Reset();

  // "Where would a send of `payload` bytes from from.domid's port
  // from.port to its implicit destination go, and would it be allowed?",
  // decided by sendv's own code (Hypervisor::ProbeSend).
  implicit_dest::RouteExplanation Explain(
      implicit_dest::Endpoint from, uint32_t payload = 0,
      const implicit_dest::DomainNamer& namer = nullptr);

 private:
  Level() = default;

  NullVirqNotifier null_notifier_;
  VirqNotifier* notifier_ = &null_notifier_;
  implicit_dest::ImplicitTable table_;
  std::unique_ptr<policy::PolicyEngine> policy_;
  std::unique_ptr<Hypervisor> hv_;
};

}  // namespace argo::nesting

#endif  // NESTING_LEVEL_H_
