#include "toolstack_api/platform.h"

#include <sys/random.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "argo_core/argo_limits.h"
#include "argo_core/public/argo_nesting.h"
#include "google/protobuf/text_format.h"
#include "implicit_dest/policy/capabilities.h"
#include "implicit_dest/policy/policy.pb.h"
#include "implicit_dest/policy/shipped_modules.h"
#include "implicit_dest/policy/text_errors.h"
#include "guest/guest.h"
#include "toolstack_api/convert.h"
#include "toolstack_api/endpoint_text.h"

namespace argo::toolstack {
namespace {

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64 || name == "parent") return false;
  // All digits would read as a domid wherever domains are named.
  if (std::all_of(name.begin(), name.end(), absl::ascii_isdigit)) return false;
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

// The types a module's text declares; InvalidArgument "<file>:<line>:
// <column>: ..." if it does not parse as a policy.
absl::StatusOr<std::vector<std::string>> ModuleTypes(absl::string_view file,
                                                     absl::string_view text) {
  policy::v1::Policy parsed;
  google::protobuf::TextFormat::ParseInfoTree tree;
  if (absl::Status s =
          policy::ParseTextWithLocations(text, file, &parsed, &tree);
      !s.ok()) {
    return s;
  }
  return std::vector<std::string>(parsed.types().begin(),
                                  parsed.types().end());
}

}  // namespace

std::string Platform::MeasuredName(absl::string_view name) {
  // The log cuts a description's tail; of a path the tail (the file's own
  // name) is what a reader needs, so a long one keeps it instead.
  constexpr size_t kMax = LaunchLog::kMaxDescriptionBytes;
  if (name.size() <= kMax) return std::string(name);
  return absl::StrCat("...", name.substr(name.size() - (kMax - 3)));
}

absl::StatusOr<std::unique_ptr<Platform>> Platform::Create(
    PlatformOptions options) {
  std::unique_ptr<Platform> platform(new Platform(options));
  nesting::LevelOptions level;
  level.policy_text = options.policy_text;
  level.policy_name = options.policy_name;
  level.notifier = options.notifier;
  level.ring_observer = platform.get();
  absl::StatusOr<std::unique_ptr<nesting::Level>> built =
      nesting::Level::Create(std::move(level));
  if (!built.ok()) return built.status();
  platform->level_ = *std::move(built);
  platform->captures_ =
      std::make_unique<CaptureHub>(&platform->level_->hypervisor());
  platform->policy().audit().SetListener(
      [p = platform.get()](const policy::Denial& denial) {
        p->OnDenial(denial);
      });
  {
    MutexLock l(&platform->modules_mu_);
    for (policy::PolicyModule& m : policy::ShippedModules()) {
      absl::StatusOr<std::vector<std::string>> types =
          ModuleTypes(m.file, m.text);
      // Shipped modules are tested to parse (policy_tools_test).
      if (!types.ok()) return types.status();
      platform->modules_.push_back(
          ModuleEntry{std::move(m), /*shipped=*/true, *std::move(types)});
    }
  }
  // The policy the level starts with is the first measurement: the log
  // says what was in force before anything was configured.
  platform->launch_log_.Measure(
      MeasurementKind::kPolicy,
      options.policy_text.empty() ? "default.textproto (embedded)"
                                  : MeasuredName(options.policy_name),
      platform->policy().Text());
  return platform;
}

Platform::Platform(const PlatformOptions& options)
    : launch_log_(options.launch_log_clock
                      ? options.launch_log_clock
                      : LaunchLog::Clock([] { return absl::Now(); })),
      max_domains_(options.max_domains),
      max_total_memory_frames_(options.max_total_memory_frames) {}

// The level's teardown reports to this observer: it goes first. The link
// to the parent before the level: it is the level's uplink and its
// drainers deliver into the level.
Platform::~Platform() {
  {
    MutexLock l(&parent_mu_);
    parent_link_.reset();
  }
  if (level_ != nullptr) policy().audit().SetListener(nullptr);
  level_.reset();
  events_.Close();
}

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

absl::StatusOr<domid_t> Platform::Resolve(const v1::DomainRef& ref,
                                          absl::string_view role) {
  absl::StatusOr<DomainRef> key = RefFromProto(ref, role);
  if (!key.ok()) return key.status();
  return Resolve(*key);
}

absl::StatusOr<implicit_dest::Endpoint> Platform::ResolveEndpoint(
    const v1::Endpoint& e, absl::string_view role) {
  switch (e.target_case()) {
    case v1::Endpoint::kParent:
      if (!e.parent()) break;
      return implicit_dest::Endpoint{ARGO_DOMID_PARENT, e.port()};
    case v1::Endpoint::kDomain: {
      absl::StatusOr<domid_t> id = Resolve(e.domain(), role);
      if (!id.ok()) return id.status();
      return implicit_dest::Endpoint{*id, e.port()};
    }
    case v1::Endpoint::TARGET_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(role, ": name a domain (by name or id) or the parent"));
}

DomainRecord Platform::RecordLocked(domid_t id) {
  absl::StatusOr<DomainInfo> info = hypervisor().GetDomainInfo(id);
  DomainRecord record{id, domains_[id].name, policy().Label(id),
                      info.ok() ? *info : DomainInfo{.domid = id}};
  record.attached_pid = domains_[id].attached_pid;
  record.capabilities = policy().Capabilities(id);
  MutexLock l(&names_mu_);
  auto it = denials_.find(id);
  if (it != denials_.end()) record.denials = it->second;
  return record;
}

std::string Platform::NameOf(domid_t id) const {
  MutexLock l(&names_mu_);
  auto it = names_.find(id);
  return it != names_.end() ? it->second : std::string();
}

void Platform::PublishDomain(v1::Event::Kind kind, const DomainRecord& record,
                             std::string summary) {
  v1::Event event;
  event.set_kind(kind);
  event.set_summary(std::move(summary));
  *event.mutable_domain() = DomainToProto(record);
  const domid_t ids[] = {record.id};
  events_.Publish(std::move(event), ids);
}

absl::StatusOr<std::shared_ptr<Capture>> Platform::StartCapture(
    const CaptureFilter& filter, uint64_t buffer_bytes,
    absl::string_view description) {
  absl::StatusOr<std::shared_ptr<Capture>> capture =
      captures_->Start(filter, buffer_bytes);
  if (!capture.ok()) return capture.status();
  const std::string summary =
      absl::StrCat("capture started: ", description, " (",
                   (*capture)->slots(), " slots)");
  std::fprintf(stderr, "argo-hv: %s\n", summary.c_str());
  v1::Event event;
  event.set_kind(v1::Event::CAPTURE_STARTED);
  event.set_summary(summary);
  events_.Publish(std::move(event), {});
  return capture;
}

void Platform::StopCapture(const std::shared_ptr<Capture>& capture,
                           absl::string_view description, uint64_t captured) {
  captures_->Stop(capture);
  const std::string summary =
      absl::StrCat("capture stopped: ", description, "; ", captured,
                   " messages captured, ", capture->dropped(), " dropped");
  std::fprintf(stderr, "argo-hv: %s\n", summary.c_str());
  v1::Event event;
  event.set_kind(v1::Event::CAPTURE_STOPPED);
  event.set_summary(summary);
  events_.Publish(std::move(event), {});
}

void Platform::PublishCables(const std::vector<implicit_dest::Cable>& cables,
                             bool installed) {
  for (const implicit_dest::Cable& c : cables) {
    v1::Event event;
    event.set_kind(v1::Event::CABLE_CHANGED);
    v1::Cable* cable = event.mutable_cable();
    *cable->mutable_from() = EndpointToProto(c.from, NameOf(c.from.domid));
    *cable->mutable_to() = EndpointToProto(c.to, NameOf(c.to.domid));
    event.set_summary(absl::StrCat(installed ? "cabled " : "uncabled ",
                                   FormatEndpoint(cable->from()), " -> ",
                                   FormatEndpoint(cable->to())));
    const domid_t ids[] = {c.from.domid, c.to.domid};
    events_.Publish(std::move(event), ids);
  }
}

void Platform::OnRingChanges(absl::Span<const RingChange> changes) {
  for (const RingChange& c : changes) {
    v1::Event event;
    event.set_kind(c.registered ? v1::Event::RING_REGISTERED
                                : v1::Event::RING_UNREGISTERED);
    RingSnapshot snapshot{.owner = c.owner, .id = c.id, .len = c.len};
    const std::string owner = NameOf(c.owner);
    *event.mutable_ring() = RingToProto(snapshot, owner);
    event.set_summary(absl::StrCat(
        c.registered ? "registered" : "unregistered", " ring ",
        owner.empty() ? absl::StrCat(c.owner) : owner, ":", c.id.aport,
        " (partner ",
        c.id.partner_id == XEN_ARGO_DOMID_ANY ? std::string("any")
                                              : absl::StrCat(c.id.partner_id),
        ", ", c.len, " bytes)"));
    const domid_t ids[] = {c.owner, c.id.partner_id};
    events_.Publish(std::move(event), ids);
  }
}

void Platform::OnDenial(const policy::Denial& denial) {
  {
    MutexLock l(&names_mu_);
    // Bounded: only live domains are counted (destroy erases the entry).
    if (names_.contains(denial.source)) ++denials_[denial.source];
  }
  v1::Event event;
  event.set_kind(v1::Event::ACCESS_DENIED);
  event.set_summary(denial.Describe());
  *event.mutable_denial() = DenialToProto(denial);
  const domid_t ids[] = {denial.source, denial.target};
  events_.Publish(std::move(event), ids);
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
  if (domains_.size() >= max_domains_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this level already has ", domains_.size(),
        " domains (its limit); destroy one first"));
  }
  if (total_memory_frames_ + spec.memory_frames > max_total_memory_frames_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "memory of ", spec.memory_frames, " frames would take the level past ",
        max_total_memory_frames_, " frames in all (",
        max_total_memory_frames_ - total_memory_frames_, " left)"));
  }
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
    if (domains_.contains(id) || hypervisor().DomainExists(id)) {
      return absl::AlreadyExistsError(absl::StrCat("domid ", id, " is in use"));
    }
  } else {
    id = 1;
    while (id < DOMID_FIRST_RESERVED &&
           (domains_.contains(id) || hypervisor().DomainExists(id))) {
      ++id;
    }
    if (id == DOMID_FIRST_RESERVED) {
      return absl::ResourceExhaustedError("every domid is in use");
    }
  }
  absl::StatusOr<std::string> token = RandomToken();
  if (!token.ok()) return token.status();
  if ((spec.capabilities & ~policy::kAllCapabilities) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("capabilities: unknown bits ", spec.capabilities));
  }
  absl::Status created = level_->CreateDomain(
      id, DomainConfig{spec.memory_frames, spec.argo_enabled}, spec.label,
      spec.capabilities);
  if (!created.ok()) return created;
  for (policy::Capability cap :
       {policy::kCapControl, policy::kCapHardware, policy::kCapXenstore}) {
    if ((spec.capabilities & cap) == 0) continue;
    const std::string name = policy::CapabilitiesText(cap);
    // The measured bytes say what was granted to which domain; the
    // description adds the toolstack's name for the reader.
    launch_log_.Measure(
        MeasurementKind::kCapability,
        absl::StrCat("domain ", id, " (", spec.name, "): ", name),
        absl::StrCat("capability ", name, " granted to domain ", id, "\n"));
  }
  domains_[id] = Entry{spec.name, *std::move(token), spec.memory_frames};
  total_memory_frames_ += spec.memory_frames;
  by_name_[spec.name] = id;
  {
    MutexLock names(&names_mu_);
    names_[id] = spec.name;
    denials_.erase(id);
  }
  DomainRecord record = RecordLocked(id);
  PublishDomain(v1::Event::DOMAIN_CREATED, record,
                absl::StrCat("created domain ", record.name, " (id ", id, ", ",
                             record.label, ")"));
  return std::make_pair(std::move(record), domains_[id].token);
}

absl::Status Platform::DestroyDomain(const DomainRef& ref) {
  domid_t id;
  {
    MutexLock l(&registry_mu_);
    absl::StatusOr<domid_t> resolved = ResolveLocked(ref);
    if (!resolved.ok()) return resolved.status();
    id = *resolved;
    Entry& entry = domains_[id];
    if (entry.destroying) {
      return absl::FailedPreconditionError(absl::StrCat(
          "domain ", entry.name, " (id ", id, ") is already being destroyed"));
    }
    // From here Attach refuses it, so the eviction below is the last one.
    entry.destroying = true;
  }
  {
    // registry_mu_ is released: the evictor waits for the transport's loop,
    // which may be in Attach or Detached (the latter reporting this very
    // eviction). The entry cannot go meanwhile: only this call erases it,
    // and every other DestroyDomain of it refuses above.
    MutexLock e(&evictor_mu_);
    if (evictor_) evictor_(id);
  }
  MutexLock l(&registry_mu_);
  DomainRecord last = RecordLocked(id);
  if (absl::Status s = level_->DestroyDomain(id); !s.ok()) {
    domains_[id].destroying = false;
    return s;
  }
  by_name_.erase(domains_[id].name);
  total_memory_frames_ -= domains_[id].memory_frames;
  domains_.erase(id);
  {
    MutexLock names(&names_mu_);
    names_.erase(id);
    denials_.erase(id);
  }
  PublishDomain(v1::Event::DOMAIN_DESTROYED, last,
                absl::StrCat("destroyed domain ", last.name, " (id ", id, ", ",
                             last.label, ")"));
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
  for (domid_t id : hypervisor().ListDomains()) {
    if (domains_.contains(id)) out.push_back(RecordLocked(id));
  }
  return out;
}

absl::StatusOr<DomainRecord> Platform::Relabel(const DomainRef& ref,
                                               absl::string_view label) {
  MutexLock m(&modules_mu_);
  MutexLock l(&registry_mu_);
  absl::StatusOr<domid_t> id = ResolveLocked(ref);
  if (!id.ok()) return id.status();
  if (absl::Status s = policy().Relabel(*id, label); !s.ok()) return s;
  const std::string what = absl::StrCat("domain ", *id, " -> ", label);
  launch_log_.Measure(MeasurementKind::kRelabel, what,
                      absl::StrCat(what, "\n"));
  return RecordLocked(*id);
}

absl::StatusOr<std::vector<implicit_dest::Cable>> Platform::Connect(
    implicit_dest::Endpoint from, implicit_dest::Endpoint to, bool one_way) {
  if (absl::Status s = table().Connect(from, to, !one_way); !s.ok()) return s;
  std::vector<implicit_dest::Cable> installed = {{from, to}};
  if (!one_way) installed.push_back({to, from});
  PublishCables(installed, true);
  return installed;
}

absl::StatusOr<std::vector<implicit_dest::Cable>> Platform::Disconnect(
    implicit_dest::Endpoint from, bool one_way) {
  absl::StatusOr<std::vector<implicit_dest::Cable>> removed =
      table().Disconnect(from, !one_way);
  if (removed.ok()) PublishCables(*removed, false);
  return removed;
}

absl::Status Platform::LoadPolicy(absl::string_view text,
                                  absl::string_view name) {
  MutexLock m(&modules_mu_);
  if (absl::Status s = LoadPolicyLocked(text, name); !s.ok()) return s;
  enabled_.clear();  // a whole policy: no longer modular
  return absl::OkStatus();
}

absl::Status Platform::LoadPolicyLocked(absl::string_view text,
                                        absl::string_view name) {
  if (absl::Status s = policy().Load(text, name); !s.ok()) return s;
  launch_log_.Measure(MeasurementKind::kPolicy, MeasuredName(name), text);
  v1::Event event;
  event.set_kind(v1::Event::POLICY_LOADED);
  event.set_summary(absl::StrCat("loaded policy ", name, " (generation ",
                                 policy().generation(), ")"));
  event.mutable_policy()->set_generation(policy().generation());
  events_.Publish(std::move(event), {});
  return absl::OkStatus();
}

const Platform::ModuleEntry* Platform::FindModuleLocked(
    absl::string_view name) const {
  for (const ModuleEntry& m : modules_) {
    if (m.module.name == name) return &m;
  }
  return nullptr;
}

absl::StatusOr<ModuleRecord> Platform::AddModule(absl::string_view name,
                                                 absl::string_view file,
                                                 absl::string_view text) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("module name \"", absl::CHexEscape(name.substr(0, 80)),
                     "\" is invalid: ", kNameRules));
  }
  const std::string file_name =
      file.empty() ? absl::StrCat(name, ".textproto") : std::string(file);
  absl::StatusOr<std::vector<std::string>> types =
      ModuleTypes(file_name, text);
  if (!types.ok()) return types.status();
  MutexLock l(&modules_mu_);
  if (FindModuleLocked(name) != nullptr) {
    return absl::AlreadyExistsError(
        absl::StrCat("a policy module named \"", name, "\" exists"));
  }
  if (modules_.size() >= kMaxModules) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this level already has ", modules_.size(), " policy modules (its "
        "limit)"));
  }
  modules_.push_back(ModuleEntry{
      policy::PolicyModule{std::string(name), file_name, std::string(text)},
      /*shipped=*/false, *types});
  return ModuleRecord{std::string(name), file_name, false, false,
                      *std::move(types)};
}

std::vector<ModuleRecord> Platform::ListModules() const {
  MutexLock l(&modules_mu_);
  std::vector<ModuleRecord> out;
  for (const ModuleEntry& m : modules_) {
    const bool enabled = std::find(enabled_.begin(), enabled_.end(),
                                   m.module.name) != enabled_.end();
    out.push_back(ModuleRecord{m.module.name, m.module.file, m.shipped,
                               enabled, m.types});
  }
  return out;
}

std::vector<std::string> Platform::EnabledModules() const {
  MutexLock l(&modules_mu_);
  return enabled_;
}

absl::StatusOr<std::string> Platform::AssembleModules(
    const std::vector<std::string>& names) const {
  MutexLock l(&modules_mu_);
  return AssembleLocked(names);
}

absl::StatusOr<std::string> Platform::AssembleLocked(
    const std::vector<std::string>& names) const {
  if (names.empty() || names[0] != "core") {
    return absl::InvalidArgumentError(
        "policy modules: the list starts with \"core\"");
  }
  std::vector<policy::PolicyModule> optional;
  for (size_t i = 0; i < names.size(); ++i) {
    const ModuleEntry* m = FindModuleLocked(names[i]);
    if (m == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "no policy module named \"", absl::CHexEscape(names[i].substr(0, 80)),
          "\" (argoctl policy modules lists them)"));
    }
    if (std::find(names.begin(), names.begin() + i, names[i]) !=
        names.begin() + i) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy modules: \"", names[i], "\" is listed twice"));
    }
    if (i > 0) optional.push_back(m->module);
  }
  return policy::AssemblePolicy(FindModuleLocked("core")->module, optional);
}

absl::Status Platform::LoadModules(const std::vector<std::string>& names) {
  MutexLock l(&modules_mu_);
  return LoadModulesLocked(names);
}

absl::Status Platform::LoadModulesLocked(
    const std::vector<std::string>& names) {
  absl::StatusOr<std::string> text = AssembleLocked(names);
  if (!text.ok()) return text.status();
  const std::string name = absl::StrCat("modules ", absl::StrJoin(names, "+"));
  if (absl::Status s = policy().Load(*text, name); !s.ok()) return s;
  // Each module as enabled, then what was loaded: the assembly.
  for (const std::string& n : names) {
    const ModuleEntry* m = FindModuleLocked(n);
    launch_log_.Measure(MeasurementKind::kPolicyModule, m->module.file,
                        m->module.text);
  }
  launch_log_.Measure(MeasurementKind::kPolicy, name, *text);
  enabled_ = names;
  v1::Event event;
  event.set_kind(v1::Event::POLICY_LOADED);
  event.set_summary(absl::StrCat("loaded policy ", name, " (generation ",
                                 policy().generation(), ")"));
  event.mutable_policy()->set_generation(policy().generation());
  events_.Publish(std::move(event), {});
  return absl::OkStatus();
}

absl::Status Platform::EnableModule(absl::string_view name) {
  MutexLock l(&modules_mu_);
  if (FindModuleLocked(name) == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no policy module named \"", absl::CHexEscape(name.substr(0, 80)),
        "\" (argoctl policy modules lists them)"));
  }
  std::vector<std::string> names = enabled_;
  if (names.empty()) names.push_back("core");  // from a whole policy
  if (!enabled_.empty() &&
      std::find(names.begin(), names.end(), name) != names.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy module ", name, " is already enabled"));
  }
  if (name != "core") names.push_back(std::string(name));
  return LoadModulesLocked(names);
}

absl::Status Platform::DisableModule(absl::string_view name) {
  MutexLock l(&modules_mu_);
  if (FindModuleLocked(name) == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no policy module named \"", absl::CHexEscape(name.substr(0, 80)),
        "\" (argoctl policy modules lists them)"));
  }
  if (name == "core") {
    return absl::FailedPreconditionError(
        "the core module cannot be disabled; load a whole policy (argoctl "
        "policy load) to leave modular mode");
  }
  std::vector<std::string> names = enabled_;
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy module ", name, " is not enabled"));
  }
  names.erase(it);
  return LoadModulesLocked(names);
}

bool Platform::TokenMatchesLocked(domid_t id, absl::string_view token) {
  auto it = domains_.find(id);
  if (it == domains_.end()) return false;
  const std::string& want = it->second.token;
  // Every token has the same length (RandomToken), so a length mismatch
  // tells an attacker nothing they did not know.
  if (token.size() != want.size()) return false;
  unsigned char diff = 0;  // constant time: no early exit on a mismatch
  for (size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(token[i] ^ want[i]);
  }
  return diff == 0;
}

bool Platform::CheckAttachToken(domid_t id, absl::string_view token) {
  MutexLock l(&registry_mu_);
  return TokenMatchesLocked(id, token);
}

absl::StatusOr<std::string> Platform::IssueAttachToken(const DomainRef& ref) {
  // Drawn before the lock: getrandom may block on a young system's pool.
  absl::StatusOr<std::string> token = RandomToken();
  if (!token.ok()) return token.status();
  MutexLock l(&registry_mu_);
  absl::StatusOr<domid_t> id = ResolveLocked(ref);
  if (!id.ok()) return id.status();
  Entry& entry = domains_[*id];
  if (entry.destroying) {
    return absl::FailedPreconditionError(absl::StrCat(
        "domain ", entry.name, " (id ", *id, ") is being destroyed"));
  }
  entry.token = *std::move(token);
  return entry.token;
}

absl::StatusOr<transport::AttachGrant> Platform::Attach(
    const transport::AttachRequest& request, pid_t pid) {
  if (pid <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("pid ", pid, " is not a process"));
  }
  MutexLock l(&registry_mu_);
  absl::StatusOr<domid_t> id = ResolveLocked(request.domain);
  if (!id.ok()) return id.status();
  // The token first: whoever lacks it learns nothing more of the domain
  // (neither who runs it nor that it is going).
  if (!TokenMatchesLocked(*id, request.token)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "that is not the attach token of domain ", domains_[*id].name,
        " (id ", *id, "); argoctl domain token ", domains_[*id].name,
        " issues a new one"));
  }
  Entry& entry = domains_[*id];
  if (entry.destroying) {
    return absl::FailedPreconditionError(absl::StrCat(
        "domain ", entry.name, " (id ", *id, ") is being destroyed"));
  }
  if (entry.attached_pid != 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        "domain ", entry.name, " (id ", *id, ") is run by pid ",
        entry.attached_pid, "; one process per domain"));
  }
  // Under registry_mu_ a registered, not-destroying domain exists in the
  // hypervisor (CreateDomain and DestroyDomain change both under it).
  std::shared_ptr<GuestMemory> memory = hypervisor().DomainMemory(*id);
  if (memory == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "domain ", entry.name, " (id ", *id, ") has no memory"));
  }
  // Unmarked by the crash reset when this process goes (and at every
  // attach by the request's value), so a domain is a child level exactly
  // while a process that said so runs it.
  if (absl::Status s = hypervisor().SetChildLevel(*id, request.level_cpus);
      !s.ok()) {
    return s;
  }
  entry.attached_pid = pid;
  entry.level_cpus = request.level_cpus;
  DomainRecord record = RecordLocked(*id);
  PublishDomain(
      v1::Event::GUEST_ATTACHED, record,
      absl::StrCat(
          request.level_cpus != 0 ? "child level" : "guest", " pid ", pid,
          " attached to domain ", record.name, " (id ", *id, ", ",
          request.mode == transport::Mode::kLowLatency ? "low-latency"
                                                       : "blocking",
          ", ", request.vcpus, " vcpu", request.vcpus == 1 ? "" : "s",
          request.level_cpus != 0
              ? absl::StrCat(", ", request.level_cpus, " receive buffers")
              : std::string(),
          ")"));
  return transport::AttachGrant{*id, std::move(memory)};
}

void Platform::Detached(domid_t domid, pid_t pid,
                        transport::DetachReason reason,
                        absl::string_view detail) {
  const char* why = "";
  bool crashed = false;
  switch (reason) {
    case transport::DetachReason::kClosed:
      why = "its socket closed";
      crashed = true;
      break;
    case transport::DetachReason::kProtocolError:
      why = "protocol error";
      crashed = true;
      break;
    case transport::DetachReason::kEvicted:
      why = "evicted";
      break;
  }
  // Bounded: the detail may quote what a guest sent.
  constexpr size_t kMaxDetail = 200;
  const std::string said =
      detail.empty()
          ? std::string()
          : absl::StrCat(": ", absl::CHexEscape(detail.substr(0, kMaxDetail)));
  MutexLock l(&registry_mu_);
  auto it = domains_.find(domid);
  if (it == domains_.end() || it->second.attached_pid != pid) return;
  it->second.attached_pid = 0;
  // A level only while its process runs (a crash's reset unmarks it too).
  if (!crashed) hypervisor().SetChildLevel(domid, 0).IgnoreError();
  DomainRecord record = RecordLocked(domid);
  PublishDomain(v1::Event::GUEST_DETACHED, record,
                absl::StrCat("guest pid ", pid, " detached from domain ",
                             record.name, " (id ", domid, "): ", why, said));
  if (!crashed) return;
  // Still under registry_mu_: no new process attaches before the reset.
  absl::Status reset = level_->CrashDomain(domid);
  if (absl::IsNotFound(reset)) return;  // gone: nothing left to reset
  record = RecordLocked(domid);
  PublishDomain(
      v1::Event::DOMAIN_CRASHED, record,
      reset.ok()
          ? absl::StrCat("domain ", record.name, " (id ", domid,
                         ") crashed (guest pid ", pid, ": ", why,
                         "); its rings were reset, its memory, label and "
                         "cables kept")
          : absl::StrCat("domain ", record.name, " (id ", domid,
                         ") crashed (guest pid ", pid, ": ", why,
                         "); its reset failed: ", reset.message()));
}

absl::Status Platform::CheckParentSpec(const ParentSpec& spec,
                                       std::string* field) {
  auto bad = [&](const char* name, std::string what) {
    if (field != nullptr) *field = name;
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", what));
  };
  // sockaddr_un's sun_path holds 108 bytes with the terminator.
  constexpr size_t kMaxSocketPath = 107;
  if (spec.socket.empty()) {
    return bad("socket", "the parent's attach socket is needed");
  }
  if (spec.socket.size() > kMaxSocketPath) {
    return bad("socket", absl::StrCat("longer than ", kMaxSocketPath,
                                      " bytes (a unix socket path)"));
  }
  if (spec.domain.empty()) {
    return bad("domain", "this level's domain in the parent is needed");
  }
  uint32_t id = 0;
  if (!ValidName(spec.domain) &&
      !(absl::SimpleAtoi(spec.domain, &id) && IsNormalDomid(id))) {
    return bad("domain", absl::StrCat("\"", absl::CHexEscape(spec.domain),
                                      "\" is neither a domain name (",
                                      kNameRules, ") nor a domid"));
  }
  if (spec.token.empty() || spec.token.size() >= transport::kTokenBytes ||
      !std::all_of(spec.token.begin(), spec.token.end(), [](char c) {
        return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
      })) {
    return bad("token",
               "an attach token is lower-case hex (argoctl domain token "
               "NAME at the parent issues one)");
  }
  if (spec.cpus == 0 || spec.cpus > ARGO_LEVEL_MAX_CPUS) {
    return bad("cpus",
               absl::StrCat(spec.cpus, ", expected 1..", ARGO_LEVEL_MAX_CPUS));
  }
  return absl::OkStatus();
}

absl::Status Platform::AttachToParent(const ParentSpec& spec) {
  if (absl::Status s = CheckParentSpec(spec); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("parent ", s.message()));
  }
  {
    MutexLock l(&parent_mu_);
    if (parent_attaching_ || parent_link_ != nullptr) {
      return absl::FailedPreconditionError(
          "parent: this level is already attached to a parent");
    }
    parent_attaching_ = true;
  }
  guest::AttachOptions attach;
  attach.socket_path = spec.socket;
  attach.domain = spec.domain;
  attach.token = spec.token;
  // Blocking: the link's callers (senders forwarding up, drainers, the
  // VIRQ thread) share the guest's one hypercall port anyway, and an idle
  // level must burn no CPU on a host its parent shares (DESIGN §8).
  attach.mode = transport::Mode::kBlocking;
  attach.vcpus = 1;
  attach.level_cpus = spec.cpus;
  GuestOptions guest_options;
  // The largest payload a guest here may send, plus the path block.
  guest_options.send_buffer_bytes = 64 * 1024 + ARGO_PATH_MAX_BYTES;
  absl::StatusOr<std::unique_ptr<guest::Guest>> parent =
      guest::Guest::Attach(attach, guest_options);
  absl::StatusOr<std::unique_ptr<nesting::ParentLink>> link;
  if (!parent.ok()) {
    link = parent.status();
  } else {
    link = nesting::ParentLink::Start(
        level_.get(), *std::move(parent),
        nesting::ParentLinkOptions{.cpus = spec.cpus,
                                   .buffer_bytes = spec.buffer_bytes});
  }
  MutexLock l(&parent_mu_);
  parent_attaching_ = false;
  if (!link.ok()) {
    return absl::Status(
        link.status().code(),
        absl::StrCat("parent ", spec.socket, ", domain ", spec.domain, ": ",
                     link.status().message()));
  }
  parent_spec_ = spec;
  parent_spec_.token.clear();  // tokens never leave the platform
  parent_link_ = *std::move(link);
  return absl::OkStatus();
}

absl::optional<ParentLinkRecord> Platform::parent_link() const {
  MutexLock l(&parent_mu_);
  if (parent_link_ == nullptr) return absl::nullopt;
  return ParentLinkRecord{parent_spec_.socket,
                          parent_spec_.domain,
                          parent_link_->domid_in_parent(),
                          parent_link_->cpus(),
                          parent_link_->parent_lost(),
                          parent_link_->stats()};
}

std::vector<ChildLevelRecord> Platform::ChildLevels() {
  MutexLock l(&registry_mu_);
  std::vector<ChildLevelRecord> out;
  for (domid_t id : hypervisor().ListDomains()) {
    auto it = domains_.find(id);
    if (it == domains_.end() || it->second.level_cpus == 0) continue;
    out.push_back(ChildLevelRecord{
        id, it->second.name, it->second.level_cpus,
        it->second.attached_pid != 0 && hypervisor().ChildLevelCpus(id) != 0});
  }
  return out;
}

void Platform::SetEvictor(std::function<void(domid_t)> evictor) {
  MutexLock e(&evictor_mu_);
  evictor_ = std::move(evictor);
}

void Platform::SetAttachSocketPath(std::string path) {
  MutexLock l(&names_mu_);
  attach_socket_path_ = std::move(path);
}

std::string Platform::attach_socket_path() const {
  MutexLock l(&names_mu_);
  return attach_socket_path_;
}

}  // namespace argo::toolstack
