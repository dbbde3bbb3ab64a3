// The state one argo-hv level owns (DESIGN §6): a nesting::Level (the
// hypervisor, the implicit-destination table and the policy engine, wired
// and torn down in one place) plus what only the toolstack knows — domain
// names and attach tokens, events, denial counts. The gRPC service is a
// thin adapter over this class.
//
// Every change made through it is published on events() (§6 Watch):
// domains, cables, policy loads and guest attachments here, rings and
// denials from the hypervisor's and the policy's callbacks.
//
// It is also the guest transport's AttachAuthority (§8): it checks attach
// tokens, records which process runs each domain, and turns a guest that
// went away into a crash of its domain. Attach tokens never leave it except
// through CreateDomain and IssueAttachToken: no event or message holds one.
//
// Thread safety: all methods may be called concurrently. Lock order:
//   evictor_mu_ (held across the evictor; nothing under registry_mu_ or
//                called back by the evictor takes it)
//     -> registry_mu_ (the domain registry: names, tokens, attached pids)
//       -> any hypervisor, table or policy lock
//         -> names_mu_, the event bus's lock (leaves: the ring and denial
//            callbacks take them from hypercall paths, and from
//            DestroyDomain and Detached under registry_mu_)
//   parent_mu_ (a leaf of its own: nothing else is taken under it)
//   modules_mu_ (serialises policy loads, whole or assembled, and relabels
//                with their measurements, so the launch log's order is the
//                order they took effect)
//     -> registry_mu_ -> ... as above
//   The launch log's lock is a leaf (taken last, under any of these).
// The evictor runs with registry_mu_ released: it waits for the transport's
// loop, which may be inside Attach or Detached.
#ifndef TOOLSTACK_API_PLATFORM_H_
#define TOOLSTACK_API_PLATFORM_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/variant.h"
#include "argo_core/hypervisor.h"
#include "argo_core/mutex.h"
#include "argo_core/virq_notifier.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/policy_engine.h"
#include "implicit_dest/policy/policy_modules.h"
#include "nesting/level.h"
#include "nesting/parent_link.h"
#include "toolstack_api/capture/capture_hub.h"
#include "toolstack_api/event_bus.h"
#include "toolstack_api/measurement/launch_log.h"
#include "toolstack_api/platform_types.h"
#include "transport/attach_authority.h"

namespace argo::toolstack {

struct PlatformOptions {
  std::string policy_text;  // "": the embedded default policy
  std::string policy_name = "policy";  // for error messages
  // The hypervisor's VIRQ sink (the attach endpoint's eventfds, later).
  VirqNotifier* notifier = nullptr;
  // What the level hands out in all (each domain holds a memfd and its
  // mapping): beyond either, CreateDomain is ResourceExhausted. The
  // defaults fit a 1024-descriptor process and a small host.
  uint32_t max_domains = 256;
  uint64_t max_total_memory_frames = uint64_t{1} << 20;  // 4 GiB
  // The launch log's clock (null: the real one); tests pin it.
  LaunchLog::Clock launch_log_clock;
};

class Platform final : public transport::AttachAuthority,
                       private RingObserver {
 public:
  static constexpr const char* kNameRules =
      "1 to 64 characters: lower-case letters, digits, '-' and '_', starting "
      "with a letter or digit, not all digits, not \"parent\"";
  // The largest guest memory the toolstack hands out (1 GiB).
  static constexpr uint64_t kMaxMemoryFrames = uint64_t{1} << 18;

  static absl::StatusOr<std::unique_ptr<Platform>> Create(
      PlatformOptions options);
  ~Platform() override;
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // Labels and creates a domain; returns it and its attach token. Checks
  // everything first (InvalidArgument, AlreadyExists, ResourceExhausted);
  // on error nothing is created or labelled. Each capability granted is
  // measured (kind capability, "domain 3 (xenstore): xenstore").
  absl::StatusOr<std::pair<DomainRecord, std::string>> CreateDomain(
      const DomainSpec& spec) ABSL_LOCKS_EXCLUDED(registry_mu_);
  // Tears the domain down (its rings, waits, cables and label go with it).
  // First marks it as being destroyed (Attach, IssueAttachToken and a
  // second DestroyDomain refuse it from then on: FailedPrecondition) and
  // runs the evictor with no Platform lock but evictor_mu_ held, so the
  // attached process, if any, can make no hypercall as the domain once it
  // is gone (nor as a later domain given the same id).
  absl::Status DestroyDomain(const DomainRef& ref)
      ABSL_LOCKS_EXCLUDED(evictor_mu_, registry_mu_);
  absl::StatusOr<DomainRecord> GetDomain(const DomainRef& ref)
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  std::vector<DomainRecord> ListDomains() ABSL_LOCKS_EXCLUDED(registry_mu_);
  // The domid `ref` names (NotFound with the name or id otherwise).
  absl::StatusOr<domid_t> Resolve(const DomainRef& ref)
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  // The same for the API's messages: InvalidArgument naming `role` ("from",
  // "domain", a config entry) for an unset or out-of-range ref.
  absl::StatusOr<domid_t> Resolve(const v1::DomainRef& ref,
                                  absl::string_view role)
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  // The cable end an Endpoint message names: a live domain's port, or the
  // parent's.
  absl::StatusOr<implicit_dest::Endpoint> ResolveEndpoint(
      const v1::Endpoint& e, absl::string_view role)
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  // Relabels a live domain (NotFound, or the policy's InvalidArgument);
  // measured ("domain 3 -> storage_t").
  absl::StatusOr<DomainRecord> Relabel(const DomainRef& ref,
                                       absl::string_view label)
      ABSL_LOCKS_EXCLUDED(modules_mu_, registry_mu_);

  // Cables (§4), as ImplicitTable::Connect/Disconnect; return the entries
  // installed or removed, each published as a CABLE_CHANGED event.
  absl::StatusOr<std::vector<implicit_dest::Cable>> Connect(
      implicit_dest::Endpoint from, implicit_dest::Endpoint to, bool one_way);
  absl::StatusOr<std::vector<implicit_dest::Cable>> Disconnect(
      implicit_dest::Endpoint from, bool one_way);

  // Replaces the policy atomically (InvalidArgument naming line:column).
  // Measured (kind policy, `name`, the exact text). Leaves modular mode:
  // no module is enabled after it.
  absl::Status LoadPolicy(absl::string_view text, absl::string_view name)
      ABSL_LOCKS_EXCLUDED(modules_mu_);

  // Modular policies (policy_modules.h). The registry holds the shipped
  // modules and those added, at most kMaxModules; the enabled set is
  // empty unless the policy in force was assembled from modules, and then
  // starts with "core".
  static constexpr size_t kMaxModules = 64;
  // Registers a module (not enabled). InvalidArgument for a bad name
  // (kNameRules) or text that does not parse as a policy (file:line),
  // AlreadyExists for a name in use, ResourceExhausted past kMaxModules.
  absl::StatusOr<ModuleRecord> AddModule(absl::string_view name,
                                         absl::string_view file,
                                         absl::string_view text)
      ABSL_LOCKS_EXCLUDED(modules_mu_);
  // Every registered module, core first.
  std::vector<ModuleRecord> ListModules() const
      ABSL_LOCKS_EXCLUDED(modules_mu_);
  // The enabled set (empty: not modular).
  std::vector<std::string> EnabledModules() const
      ABSL_LOCKS_EXCLUDED(modules_mu_);
  // The policy text core + `names` would assemble to, loading nothing.
  // `names` must start with "core" and name each registered module at
  // most once (InvalidArgument, NotFound); AssemblePolicy's refusals.
  absl::StatusOr<std::string> AssembleModules(
      const std::vector<std::string>& names) const
      ABSL_LOCKS_EXCLUDED(modules_mu_);
  // Assembles `names` (as AssembleModules) and loads the result; on any
  // refusal nothing changes. Measures each module's text (kind
  // policy-module) and then the assembled text (kind policy).
  absl::Status LoadModules(const std::vector<std::string>& names)
      ABSL_LOCKS_EXCLUDED(modules_mu_);
  // LoadModules of the enabled set plus / minus `name` (from a whole
  // policy, enabling starts from core alone). NotFound for an unknown
  // module; FailedPrecondition for one already enabled / not enabled, or
  // for disabling core (load a whole policy to leave modular mode).
  absl::Status EnableModule(absl::string_view name)
      ABSL_LOCKS_EXCLUDED(modules_mu_);
  absl::Status DisableModule(absl::string_view name)
      ABSL_LOCKS_EXCLUDED(modules_mu_);

  // The measured launch log of this daemon's life (starts at zeros).
  LaunchLog& launch_log() { return launch_log_; }
  // `name` (a file name or path) as a launch log description: whole if it
  // fits, else "..." and its tail.
  static std::string MeasuredName(absl::string_view name);

  // The toolstack's name of a live domain ("" if none); a leaf lock only,
  // so callable from any callback.
  std::string NameOf(domid_t id) const ABSL_LOCKS_EXCLUDED(names_mu_);

  // True iff `token` is the attach token of domain `id` (constant time).
  bool CheckAttachToken(domid_t id, absl::string_view token)
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  // A fresh attach token for the domain; the previous one stops working at
  // once (a process already attached stays). How a domain the boot
  // configuration created, whose token nobody saw, gets a guest. NotFound,
  // FailedPrecondition while it is being destroyed, Unavailable if the
  // system has no randomness to give.
  absl::StatusOr<std::string> IssueAttachToken(const DomainRef& ref)
      ABSL_LOCKS_EXCLUDED(registry_mu_);

  // transport::AttachAuthority. Attach refuses, changing nothing: NotFound
  // (no such domain), PermissionDenied (not its current token; checked
  // before anything else about the domain is revealed), FailedPrecondition
  // (being destroyed), AlreadyExists (naming the attached pid),
  // InvalidArgument (pid <= 0). On success the domain is RUNNING with
  // attached_pid = `pid` and GUEST_ATTACHED is published.
  //
  // A request with level_cpus > 0 makes the domain a child level (DESIGN
  // §7: Hypervisor::SetChildLevel) until its process goes (the crash reset
  // unmarks it). Any domain may say so: it lets the domain send
  // path-carrying messages and makes sends to it arrive wrapped, in its
  // receive buffers. Neither lets it reach or name anything it could not
  // before: its sends still go only where its own cables point, the path
  // it sends names only hops below it (which nobody here can check or
  // needs to), and when the message goes on this level pushes the
  // domain's own address onto the path, so a receiver always learns the
  // true sender at every level it can see. A lying level only lies about
  // itself.
  absl::StatusOr<transport::AttachGrant> Attach(
      const transport::AttachRequest& request, pid_t pid) override
      ABSL_LOCKS_EXCLUDED(registry_mu_);
  // Only if `pid` is still the domain's attached process (a late report
  // about an earlier process changes nothing): clears it, publishes
  // GUEST_DETACHED and, for kClosed and kProtocolError, runs the level's
  // crash reset (rings and waits go; memory, label and cables stay) and
  // publishes DOMAIN_CRASHED — all under registry_mu_, so no new process
  // can attach and register rings that the reset would then remove.
  void Detached(domid_t domid, pid_t pid, transport::DetachReason reason,
                absl::string_view detail) override
      ABSL_LOCKS_EXCLUDED(registry_mu_);

  // What DestroyDomain calls to end a domain's attachment: it must return
  // only once the process can make no more hypercalls (GuestServer::Evict),
  // and may call Detached from another thread meanwhile. Null: none.
  // Returns once no eviction is running, so after SetEvictor(nullptr) the
  // old evictor is never called again (clear it before its server goes).
  void SetEvictor(std::function<void(domid_t)> evictor)
      ABSL_LOCKS_EXCLUDED(evictor_mu_);

  // Nesting (DESIGN §7, multi-process): attaches to the parent's attach
  // socket as `spec.domain`, declaring a child level of `spec.cpus` CPUs,
  // and becomes that domain's level: sends cabled to parent:q go up, the
  // parent's messages for it come down to the cables parent:r. Once only
  // (FailedPrecondition after). The parent's refusals as Attach's
  // (NotFound, PermissionDenied, AlreadyExists, Unavailable for no
  // parent at the socket), InvalidArgument for a bad spec; each message
  // names the parent's socket. If the parent goes later the link is lost
  // (upward sends get ECONNREFUSED) and the level goes on serving.
  absl::Status AttachToParent(const ParentSpec& spec)
      ABSL_LOCKS_EXCLUDED(parent_mu_);
  // InvalidArgument unless every field of `spec` is usable (checked before
  // anything is sent); *field names the first bad one ("socket", "domain",
  // "token", "cpus"), for callers that point at where it was written.
  static absl::Status CheckParentSpec(const ParentSpec& spec,
                                      std::string* field = nullptr);
  // The link to the parent; nullopt at the top (no parent).
  absl::optional<ParentLinkRecord> parent_link() const
      ABSL_LOCKS_EXCLUDED(parent_mu_);
  // The domains whose process attached as a child level, by id.
  std::vector<ChildLevelRecord> ChildLevels() ABSL_LOCKS_EXCLUDED(registry_mu_);

  // The guest attach socket's path, for GetTopology ("" when not served).
  void SetAttachSocketPath(std::string path) ABSL_LOCKS_EXCLUDED(names_mu_);
  std::string attach_socket_path() const ABSL_LOCKS_EXCLUDED(names_mu_);

  // Traffic captures (docs/capture.md). Start/stop publish
  // CAPTURE_STARTED / CAPTURE_STOPPED naming `description` (the filter)
  // and log a line to stderr (the daemon's log): captures are audited.
  absl::StatusOr<std::shared_ptr<Capture>> StartCapture(
      const CaptureFilter& filter, uint64_t buffer_bytes,
      absl::string_view description);
  void StopCapture(const std::shared_ptr<Capture>& capture,
                   absl::string_view description, uint64_t captured);

  nesting::Level& level() { return *level_; }
  Hypervisor& hypervisor() { return level_->hypervisor(); }
  implicit_dest::ImplicitTable& table() { return level_->table(); }
  policy::PolicyEngine& policy() { return *level_->policy(); }
  EventBus& events() { return events_; }

 private:
  struct Entry {
    std::string name;
    std::string token;
    uint64_t memory_frames;
    pid_t attached_pid = 0;  // 0: no guest process
    // The receive buffers its last process declared (0: a plain guest);
    // kept after it goes, so topology lists the child level as stopped.
    uint32_t level_cpus = 0;
    // Set by DestroyDomain before it evicts; the entry goes with the
    // domain, so this never returns to false but on a failed destroy.
    bool destroying = false;
  };

  explicit Platform(const PlatformOptions& options);
  absl::StatusOr<domid_t> ResolveLocked(const DomainRef& ref)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu_);
  DomainRecord RecordLocked(domid_t id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu_);
  // True iff `token` is live domain `id`'s attach token; compares every
  // byte whatever the outcome (no early exit an attacker could time).
  bool TokenMatchesLocked(domid_t id, absl::string_view token)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu_);
  // RingObserver: RING_REGISTERED / RING_UNREGISTERED events.
  void OnRingChanges(absl::Span<const RingChange> changes) override;
  // The audit listener: per-domain denial counts, ACCESS_DENIED events.
  void OnDenial(const policy::Denial& denial);
  void PublishCables(const std::vector<implicit_dest::Cable>& cables,
                     bool installed);
  // An event about one domain with its record as the detail.
  void PublishDomain(v1::Event::Kind kind, const DomainRecord& record,
                     std::string summary);

  // A module of the registry.
  struct ModuleEntry {
    policy::PolicyModule module;
    bool shipped;
    std::vector<std::string> types;
  };

  absl::StatusOr<std::string> AssembleLocked(
      const std::vector<std::string>& names) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(modules_mu_);
  absl::Status LoadModulesLocked(const std::vector<std::string>& names)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(modules_mu_);
  absl::Status LoadPolicyLocked(absl::string_view text, absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(modules_mu_);
  const ModuleEntry* FindModuleLocked(absl::string_view name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(modules_mu_);

  // Declared first: callbacks publish into it until the level is gone.
  EventBus events_;
  LaunchLog launch_log_;
  // Before the level: the hypervisor reports into it until it is gone.
  std::unique_ptr<CaptureHub> captures_;
  // Always with access control (the toolstack loads policies).
  std::unique_ptr<nesting::Level> level_;

  const uint32_t max_domains_;
  const uint64_t max_total_memory_frames_;

  // Held across the evictor's call (see the lock order), so SetEvictor
  // waits out a running eviction.
  Mutex evictor_mu_ ABSL_ACQUIRED_BEFORE(registry_mu_);
  std::function<void(domid_t)> evictor_ ABSL_GUARDED_BY(evictor_mu_);

  mutable Mutex modules_mu_ ABSL_ACQUIRED_BEFORE(registry_mu_);
  std::vector<ModuleEntry> modules_ ABSL_GUARDED_BY(modules_mu_);
  std::vector<std::string> enabled_ ABSL_GUARDED_BY(modules_mu_);

  Mutex registry_mu_;
  uint64_t total_memory_frames_ ABSL_GUARDED_BY(registry_mu_) = 0;
  absl::flat_hash_map<domid_t, Entry> domains_ ABSL_GUARDED_BY(registry_mu_);
  absl::flat_hash_map<std::string, domid_t> by_name_
      ABSL_GUARDED_BY(registry_mu_);

  // Copies for the callbacks, which may not take registry_mu_.
  mutable Mutex names_mu_;
  absl::flat_hash_map<domid_t, std::string> names_ ABSL_GUARDED_BY(names_mu_);
  absl::flat_hash_map<domid_t, uint64_t> denials_ ABSL_GUARDED_BY(names_mu_);
  std::string attach_socket_path_ ABSL_GUARDED_BY(names_mu_);

  // A leaf: the link is set once, read by the service. ~Platform destroys
  // it before the level (it is the level's uplink and delivers into it).
  mutable Mutex parent_mu_;
  bool parent_attaching_ ABSL_GUARDED_BY(parent_mu_) = false;
  ParentSpec parent_spec_ ABSL_GUARDED_BY(parent_mu_);
  std::unique_ptr<nesting::ParentLink> parent_link_ ABSL_GUARDED_BY(parent_mu_);
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_PLATFORM_H_
