#include "toolstack_api/toolstack_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "argo_core/xen_status.h"
#include "implicit_dest/policy/compiled_policy.h"
#include "implicit_dest/policy/policy_advisor.h"
#include "implicit_dest/route_explainer.h"
#include "toolstack_api/boot_config.h"
#include "toolstack_api/capture_request.h"
#include "toolstack_api/config_file.h"
#include "toolstack_api/convert.h"
#include "toolstack_api/pagination.h"

namespace argo::toolstack {
namespace {

// How long a Watch handler sleeps between checks for cancellation.
constexpr absl::Duration kWatchPoll = absl::Milliseconds(200);

grpc::Status Invalid(absl::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

// The largest values of the keys the listings are ordered by.
constexpr uint64_t kMaxDomid = 0xFFFF;
constexpr uint64_t kMaxPort = 0xFFFFFFFF;

// A page token is good only for the filter it was issued under.
std::string FilterText(const absl::optional<domid_t>& domain) {
  return domain.has_value() ? absl::StrCat("domain=", *domain) : "";
}

// A permission by its name in policy.proto ("SEND"); InvalidArgument
// naming the five otherwise.
absl::StatusOr<policy::Permission> PermissionArg(const std::string& name) {
  policy::Permission p = policy::v1::PERMISSION_UNSPECIFIED;
  if (!policy::v1::Permission_Parse(name, &p) ||
      p == policy::v1::PERMISSION_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "permission: \"", absl::CHexEscape(name.substr(0, 64)),
        "\" is not one of ENABLE, REGISTER_SINGLE_SOURCE, "
        "REGISTER_ANY_SOURCE, SEND, SEND_EXPLICIT"));
  }
  return p;
}

// The denials ExplainDenials and SuggestRules read: the most recent `max`
// (0: all kept).
std::vector<policy::Denial> RecentDenials(Platform& platform, uint32_t max) {
  return platform.policy().audit().Recent(
      max == 0 ? policy::AuditLog::kCapacity
               : std::min<size_t>(max, policy::AuditLog::kCapacity));
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::StatusOr<absl::optional<domid_t>> ToolstackService::ResolveFilter(
    bool present, const v1::DomainRef& ref) {
  if (!present) return absl::optional<domid_t>();
  absl::StatusOr<domid_t> id = platform_.Resolve(ref, "domain");
  if (!id.ok()) return id.status();
  return absl::optional<domid_t>(*id);
}

v1::Cable ToolstackService::CableToProto(const implicit_dest::Cable& cable) {
  v1::Cable out;
  *out.mutable_from() =
      EndpointToProto(cable.from, platform_.NameOf(cable.from.domid));
  *out.mutable_to() = EndpointToProto(cable.to, platform_.NameOf(cable.to.domid));
  return out;
}

v1::PolicyInfo ToolstackService::PolicyInfoNow() {
  v1::PolicyInfo info;
  info.set_text(platform_.policy().Text());
  info.set_generation(platform_.policy().generation());
  for (const std::string& type : platform_.policy().Types()) {
    info.add_types(type);
  }
  for (const std::string& module : platform_.EnabledModules()) {
    info.add_enabled_modules(module);
  }
  info.set_silo(platform_.policy().silo());
  return info;
}

// ---- Domains ---------------------------------------------------------------

grpc::Status ToolstackService::CreateDomain(
    grpc::ServerContext*, const v1::CreateDomainRequest* request,
    v1::CreateDomainResponse* response) {
  absl::StatusOr<DomainSpec> spec = DomainSpecFromProto(*request);
  if (!spec.ok()) return ToGrpc(spec.status());
  auto created = platform_.CreateDomain(*spec);
  if (!created.ok()) return ToGrpc(created.status());
  *response->mutable_domain() = DomainToProto(created->first);
  response->set_attach_token(created->second);
  return grpc::Status::OK;
}

grpc::Status ToolstackService::DestroyDomain(
    grpc::ServerContext*, const v1::DestroyDomainRequest* request,
    v1::DestroyDomainResponse*) {
  absl::StatusOr<DomainRef> ref = RefFromProto(request->domain(), "domain");
  if (!ref.ok()) return ToGrpc(ref.status());
  return ToGrpc(platform_.DestroyDomain(*ref));
}

grpc::Status ToolstackService::GetDomain(grpc::ServerContext*,
                                         const v1::GetDomainRequest* request,
                                         v1::Domain* response) {
  absl::StatusOr<DomainRef> ref = RefFromProto(request->domain(), "domain");
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::StatusOr<DomainRecord> record = platform_.GetDomain(*ref);
  if (!record.ok()) return ToGrpc(record.status());
  *response = DomainToProto(*record);
  return grpc::Status::OK;
}

grpc::Status ToolstackService::ListDomains(
    grpc::ServerContext*, const v1::ListDomainsRequest* request,
    v1::ListDomainsResponse* response) {
  auto pager = Pager::Start("ListDomains", "", {kMaxDomid},
                            request->page_size(), request->page_token());
  if (!pager.ok()) return ToGrpc(pager.status());
  std::vector<DomainRecord> records = platform_.ListDomains();
  std::sort(
      records.begin(), records.end(),
      [](const DomainRecord& a, const DomainRecord& b) { return a.id < b.id; });
  for (const DomainRecord& record : records) {
    const Pager::Step step = pager->Offer({record.id});
    if (step == Pager::Step::kFull) break;
    if (step == Pager::Step::kTake) {
      *response->add_domains() = DomainToProto(record);
    }
  }
  response->set_next_page_token(pager->NextToken());
  return grpc::Status::OK;
}

grpc::Status ToolstackService::IssueAttachToken(
    grpc::ServerContext*, const v1::IssueAttachTokenRequest* request,
    v1::IssueAttachTokenResponse* response) {
  absl::StatusOr<DomainRef> ref = RefFromProto(request->domain(), "domain");
  if (!ref.ok()) return ToGrpc(ref.status());
  // By id from here, so a rename race cannot pair the token with another
  // domain's record (a destroy in between makes it NOT_FOUND).
  absl::StatusOr<domid_t> id = platform_.Resolve(*ref);
  if (!id.ok()) return ToGrpc(id.status());
  absl::StatusOr<std::string> token = platform_.IssueAttachToken(*id);
  if (!token.ok()) return ToGrpc(token.status());
  absl::StatusOr<DomainRecord> record = platform_.GetDomain(*id);
  if (!record.ok()) return ToGrpc(record.status());
  response->set_attach_token(*std::move(token));
  *response->mutable_domain() = DomainToProto(*record);
  return grpc::Status::OK;
}

// ---- Cables ------------------------------------------------------------------

grpc::Status ToolstackService::Connect(grpc::ServerContext*,
                                       const v1::ConnectRequest* request,
                                       v1::ConnectResponse* response) {
  auto from = platform_.ResolveEndpoint(request->from(), "from");
  if (!from.ok()) return ToGrpc(from.status());
  auto to = platform_.ResolveEndpoint(request->to(), "to");
  if (!to.ok()) return ToGrpc(to.status());
  auto installed = platform_.Connect(*from, *to, request->one_way());
  if (!installed.ok()) return ToGrpc(installed.status());
  for (const implicit_dest::Cable& c : *installed) {
    *response->add_installed() = CableToProto(c);
  }
  return grpc::Status::OK;
}

grpc::Status ToolstackService::Disconnect(grpc::ServerContext*,
                                          const v1::DisconnectRequest* request,
                                          v1::DisconnectResponse* response) {
  auto from = platform_.ResolveEndpoint(request->from(), "from");
  if (!from.ok()) return ToGrpc(from.status());
  auto removed = platform_.Disconnect(*from, request->one_way());
  if (!removed.ok()) return ToGrpc(removed.status());
  for (const implicit_dest::Cable& c : *removed) {
    *response->add_removed() = CableToProto(c);
  }
  return grpc::Status::OK;
}

grpc::Status ToolstackService::ListCables(grpc::ServerContext*,
                                          const v1::ListCablesRequest* request,
                                          v1::ListCablesResponse* response) {
  auto domain = ResolveFilter(request->has_domain(), request->domain());
  if (!domain.ok()) return ToGrpc(domain.status());
  auto pager = Pager::Start("ListCables", FilterText(*domain),
                            {kMaxDomid, kMaxPort}, request->page_size(),
                            request->page_token());
  if (!pager.ok()) return ToGrpc(pager.status());
  // The table lists by source endpoint (domid, port): one entry each.
  for (const implicit_dest::Cable& c : platform_.table().List(*domain)) {
    const Pager::Step step = pager->Offer({c.from.domid, c.from.port});
    if (step == Pager::Step::kFull) break;
    if (step == Pager::Step::kTake) {
      *response->add_cables() = CableToProto(c);
    }
  }
  response->set_next_page_token(pager->NextToken());
  return grpc::Status::OK;
}

grpc::Status ToolstackService::Explain(grpc::ServerContext*,
                                       const v1::ExplainRequest* request,
                                       v1::Explanation* response) {
  auto from = platform_.ResolveEndpoint(request->from(), "from");
  if (!from.ok()) return ToGrpc(from.status());
  if (from->domid == ARGO_DOMID_PARENT) {
    return Invalid("from: explain a domain's port (parent routes are §7's)");
  }
  implicit_dest::RouteExplanation e = platform_.level().Explain(
      *from, request->payload_bytes(),
      [this](domid_t id) { return platform_.NameOf(id); });
  *response->mutable_from() =
      EndpointToProto(e.from, platform_.NameOf(e.from.domid));
  if (e.to.has_value()) {
    *response->mutable_to() = EndpointToProto(*e.to, platform_.NameOf(e.to->domid));
  }
  if (e.ring.has_value()) {
    *response->mutable_ring() =
        RingToProto(*e.ring, platform_.NameOf(e.ring->owner));
  }
  response->set_delivered(e.xen_errno == 0);
  if (e.xen_errno != 0) {
    response->set_error(std::string(XenErrnoName(e.xen_errno)));
  }
  response->set_reason(e.reason);
  response->set_decided_by(SendCheckName(e.decided_by));
  return grpc::Status::OK;
}

// ---- Rings and statistics ------------------------------------------------------

grpc::Status ToolstackService::ListRings(grpc::ServerContext*,
                                         const v1::ListRingsRequest* request,
                                         v1::ListRingsResponse* response) {
  auto domain = ResolveFilter(request->has_domain(), request->domain());
  if (!domain.ok()) return ToGrpc(domain.status());
  auto pager = Pager::Start("ListRings", FilterText(*domain),
                            {kMaxDomid, kMaxPort, kMaxDomid},
                            request->page_size(), request->page_token());
  if (!pager.ok()) return ToGrpc(pager.status());
  std::vector<RingSnapshot> rings = platform_.hypervisor().ListRings();
  std::sort(rings.begin(), rings.end(),
            [](const RingSnapshot& a, const RingSnapshot& b) {
              return std::tie(a.owner, a.id.aport, a.id.partner_id) <
                     std::tie(b.owner, b.id.aport, b.id.partner_id);
            });
  // (owner, port, partner) names one ring: the order is total.
  for (const RingSnapshot& ring : rings) {
    if (domain->has_value() && ring.owner != **domain) continue;
    const Pager::Step step =
        pager->Offer({ring.owner, ring.id.aport, ring.id.partner_id});
    if (step == Pager::Step::kFull) break;
    if (step == Pager::Step::kTake) {
      *response->add_rings() = RingToProto(ring, platform_.NameOf(ring.owner));
    }
  }
  response->set_next_page_token(pager->NextToken());
  return grpc::Status::OK;
}

grpc::Status ToolstackService::GetStats(grpc::ServerContext*,
                                        const v1::GetStatsRequest*,
                                        v1::Stats* response) {
  std::vector<DomainRecord> domains = platform_.ListDomains();
  uint32_t rings = 0;
  for (const DomainRecord& record : domains) {
    rings += record.info.ring_count;
    *response->add_per_domain() = DomainToProto(record);
  }
  response->set_domains(static_cast<uint32_t>(domains.size()));
  response->set_rings(rings);
  response->set_cables(platform_.table().size());
  policy::AuditLog& audit = platform_.policy().audit();
  response->set_denials(audit.total());
  for (const auto& [permission, count] : audit.CountsByPermission()) {
    (*response->mutable_denials_by_permission())[permission] = count;
  }
  *response->mutable_nesting() =
      NestingCountersToProto(platform_.hypervisor().nesting_stats());
  if (absl::optional<ParentLinkRecord> parent = platform_.parent_link()) {
    *response->mutable_parent_link() = ParentLinkCountersToProto(parent->stats);
  }
  return grpc::Status::OK;
}

// ---- Policy ------------------------------------------------------------------

grpc::Status ToolstackService::LoadPolicy(grpc::ServerContext*,
                                          const v1::LoadPolicyRequest* request,
                                          v1::PolicyInfo* response) {
  if (request->text().size() > kMaxConfigBytes) {
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("policy text larger than ", kMaxConfigBytes, " bytes"));
  }
  const std::string name =
      request->name().empty() ? std::string("policy") : request->name();
  // Fail closed: inside the platform "" means the permissive default, and
  // an empty file sent as a policy is a mistake, never that request.
  if (IsBlankText(request->text())) {
    return Invalid(absl::StrCat(name, ": the policy text is empty; ",
                                kEmptyPolicyAdvice));
  }
  if (absl::Status s = platform_.LoadPolicy(request->text(), name); !s.ok()) {
    return ToGrpc(s);
  }
  *response = PolicyInfoNow();
  return grpc::Status::OK;
}

grpc::Status ToolstackService::GetPolicy(grpc::ServerContext*,
                                         const v1::GetPolicyRequest*,
                                         v1::PolicyInfo* response) {
  *response = PolicyInfoNow();
  return grpc::Status::OK;
}

grpc::Status ToolstackService::Relabel(grpc::ServerContext*,
                                       const v1::RelabelRequest* request,
                                       v1::Domain* response) {
  absl::StatusOr<DomainRef> ref = RefFromProto(request->domain(), "domain");
  if (!ref.ok()) return ToGrpc(ref.status());
  if (request->label().empty()) return Invalid("label: name a policy type");
  absl::StatusOr<DomainRecord> record =
      platform_.Relabel(*ref, request->label());
  if (!record.ok()) return ToGrpc(record.status());
  *response = DomainToProto(*record);
  return grpc::Status::OK;
}

grpc::Status ToolstackService::GetAudit(grpc::ServerContext*,
                                        const v1::GetAuditRequest* request,
                                        v1::AuditLog* response) {
  policy::AuditLog& audit = platform_.policy().audit();
  auto pager = Pager::Start("GetAudit", absl::StrCat("max=", request->max()),
                            {UINT64_MAX}, request->page_size(),
                            request->page_token());
  if (!pager.ok()) return ToGrpc(pager.status());
  // The first page picks the `max` most recent and pins the newest; later
  // pages continue by sequence up to it (denials the log evicted in
  // between are gone: the reply's total still counts them).
  const size_t max = pager->bound().has_value() || request->max() == 0
                         ? policy::AuditLog::kCapacity
                         : std::min<size_t>(request->max(),
                                            policy::AuditLog::kCapacity);
  std::vector<policy::Denial> denials = audit.Recent(max);
  if (!pager->bound().has_value()) {
    pager->set_bound(denials.empty() ? 0 : denials.back().sequence);
  }
  for (const policy::Denial& d : denials) {
    if (d.sequence > *pager->bound()) break;
    const Pager::Step step = pager->Offer({d.sequence});
    if (step == Pager::Step::kFull) break;
    if (step == Pager::Step::kTake) {
      *response->add_denials() = DenialToProto(d);
    }
  }
  response->set_total(audit.total());
  response->set_next_page_token(pager->NextToken());
  return grpc::Status::OK;
}

grpc::Status ToolstackService::ListPolicyModules(
    grpc::ServerContext*, const v1::ListPolicyModulesRequest*,
    v1::ListPolicyModulesResponse* response) {
  bool modular = false;
  for (const ModuleRecord& m : platform_.ListModules()) {
    v1::PolicyModule* out = response->add_modules();
    out->set_name(m.name);
    out->set_file(m.file);
    out->set_source(m.shipped ? "shipped" : "added");
    out->set_enabled(m.enabled);
    for (const std::string& t : m.types) out->add_types(t);
    modular = modular || m.enabled;
  }
  response->set_modular(modular);
  return grpc::Status::OK;
}

grpc::Status ToolstackService::AddPolicyModule(
    grpc::ServerContext*, const v1::AddPolicyModuleRequest* request,
    v1::PolicyModule* response) {
  if (request->text().size() > kMaxConfigBytes) {
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("module text larger than ", kMaxConfigBytes, " bytes"));
  }
  if (request->file().size() > 255) {
    return Invalid("file: longer than 255 bytes");
  }
  // Fail closed, as for a policy: an empty file is a mistake.
  if (IsBlankText(request->text())) {
    return Invalid(absl::StrCat(request->file().empty() ? request->name()
                                                        : request->file(),
                                ": the module text is empty"));
  }
  absl::StatusOr<ModuleRecord> added = platform_.AddModule(
      request->name(), request->file(), request->text());
  if (!added.ok()) return ToGrpc(added.status());
  response->set_name(added->name);
  response->set_file(added->file);
  response->set_source("added");
  response->set_enabled(false);
  for (const std::string& t : added->types) response->add_types(t);
  return grpc::Status::OK;
}

grpc::Status ToolstackService::EnablePolicyModule(
    grpc::ServerContext*, const v1::PolicyModuleRequest* request,
    v1::PolicyInfo* response) {
  if (request->name().empty()) return Invalid("name: name a policy module");
  if (absl::Status s = platform_.EnableModule(request->name()); !s.ok()) {
    return ToGrpc(s);
  }
  *response = PolicyInfoNow();
  return grpc::Status::OK;
}

grpc::Status ToolstackService::DisablePolicyModule(
    grpc::ServerContext*, const v1::PolicyModuleRequest* request,
    v1::PolicyInfo* response) {
  if (request->name().empty()) return Invalid("name: name a policy module");
  if (absl::Status s = platform_.DisableModule(request->name()); !s.ok()) {
    return ToGrpc(s);
  }
  *response = PolicyInfoNow();
  return grpc::Status::OK;
}

grpc::Status ToolstackService::CheckPermission(
    grpc::ServerContext*, const v1::CheckPermissionRequest* request,
    v1::CheckPermissionResponse* response) {
  absl::StatusOr<policy::Permission> permission =
      PermissionArg(request->permission());
  if (!permission.ok()) return ToGrpc(permission.status());
  if (request->source_case() ==
      v1::CheckPermissionRequest::SOURCE_NOT_SET) {
    return Invalid("source: name a domain or a type");
  }
  if (request->target_case() ==
          v1::CheckPermissionRequest::TARGET_NOT_SET ||
      (request->target_case() == v1::CheckPermissionRequest::kTargetXen &&
       !request->target_xen())) {
    return Invalid("target: name a domain, a type or xen");
  }
  const bool source_is_type =
      request->source_case() == v1::CheckPermissionRequest::kSourceType;
  const bool target_is_xen =
      request->target_case() == v1::CheckPermissionRequest::kTargetXen ||
      (request->target_case() == v1::CheckPermissionRequest::kTargetType &&
       request->target_type() == "xen");
  const bool target_is_type =
      request->target_case() == v1::CheckPermissionRequest::kTargetType &&
      !target_is_xen;
  if (!target_is_xen && source_is_type != target_is_type) {
    return Invalid(
        "source and target: both domains or both types (a type check "
        "consults the rules only; a domain check also labels, capabilities "
        "and SILO)");
  }
  // Type names are echoed in refusals: bound them (a policy's own are
  // short identifiers).
  constexpr size_t kMaxTypeName = 256;
  if (request->source_type().size() > kMaxTypeName ||
      request->target_type().size() > kMaxTypeName) {
    return Invalid(absl::StrCat("a type name is longer than ", kMaxTypeName,
                                " bytes"));
  }
  policy::PolicyEngine& engine = platform_.policy();
  absl::StatusOr<policy::PolicyEngine::Verdict> verdict;
  if (source_is_type) {
    if (request->source_type().empty()) return Invalid("source: empty type");
    const std::string target =
        target_is_xen ? std::string("xen") : request->target_type();
    if (target.empty()) return Invalid("target: empty type");
    verdict = engine.CheckTypes(request->source_type(), target, *permission);
    response->set_source_type(request->source_type());
    response->set_target_type(target);
  } else {
    absl::StatusOr<domid_t> source =
        platform_.Resolve(request->source_domain(), "source");
    if (!source.ok()) return ToGrpc(source.status());
    domid_t target = DOMID_XEN;
    if (!target_is_xen) {
      absl::StatusOr<domid_t> t =
          platform_.Resolve(request->target_domain(), "target");
      if (!t.ok()) return ToGrpc(t.status());
      target = *t;
    }
    verdict = engine.CheckDomains(*source, target, *permission);
    response->set_source_type(engine.Label(*source));
    response->set_target_type(target_is_xen ? std::string("xen")
                                            : engine.Label(target));
  }
  if (!verdict.ok()) return ToGrpc(verdict.status());
  response->set_allowed(verdict->allowed);
  response->set_decided_by(verdict->decided_by);
  return grpc::Status::OK;
}

grpc::Status ToolstackService::ExplainDenials(
    grpc::ServerContext*, const v1::ExplainDenialsRequest* request,
    v1::DenialExplanations* response) {
  for (const policy::DenialReason& r : policy::ExplainDenials(
           RecentDenials(platform_, request->max()))) {
    v1::DenialExplanation* out = response->add_explanations();
    *out->mutable_denial() = DenialToProto(r.denial);
    out->set_missing(r.missing);
    out->set_rule(r.rule);
    out->set_summary(r.denial.Describe());
  }
  return grpc::Status::OK;
}

grpc::Status ToolstackService::SuggestRules(
    grpc::ServerContext*, const v1::SuggestRulesRequest* request,
    v1::SuggestedRules* response) {
  std::vector<policy::Denial> denials =
      RecentDenials(platform_, request->max());
  response->set_text(policy::SuggestRules(denials));
  response->set_denials(static_cast<uint32_t>(denials.size()));
  return grpc::Status::OK;
}

grpc::Status ToolstackService::GetMeasurements(
    grpc::ServerContext*, const v1::GetMeasurementsRequest*,
    v1::Measurements* response) {
  // One snapshot, so the entries, the register and the saved form agree.
  const SavedLaunchLog log = platform_.launch_log().Snapshot();
  response->set_register_(Sha256ToHex(log.register_value));
  for (const LaunchLogEntry& e : log.entries) {
    v1::Measurement* m = response->add_entries();
    m->set_sequence(e.sequence);
    m->set_unix_nanos(e.time_ns);
    m->set_kind(std::string(MeasurementKindName(e.kind)));
    m->set_description(e.description);
    m->set_digest(Sha256ToHex(e.digest));
  }
  response->set_json(LaunchLogJson(log));
  return grpc::Status::OK;
}

// ---- Events, topology, configuration ---------------------------------------

grpc::Status ToolstackService::Watch(grpc::ServerContext* context,
                                     const v1::WatchRequest* request,
                                     grpc::ServerWriter<v1::Event>* writer) {
  EventFilter filter;
  for (int kind : request->kinds()) {
    if (kind == v1::Event::KIND_UNSPECIFIED || !v1::Event::Kind_IsValid(kind)) {
      return Invalid(absl::StrCat("kinds: ", kind, " is not an event kind"));
    }
    filter.kinds.push_back(static_cast<v1::Event::Kind>(kind));
  }
  auto domain = ResolveFilter(request->has_domain(), request->domain());
  if (!domain.ok()) return ToGrpc(domain.status());
  filter.domain = *domain;
  auto subscription = platform_.events().Subscribe(std::move(filter));
  if (!subscription.ok()) return ToGrpc(subscription.status());
  // Headers now, so the client knows it is subscribed before any event.
  writer->SendInitialMetadata();
  v1::Event event;
  while (!context->IsCancelled()) {
    switch ((*subscription)->Next(kWatchPoll, &event)) {
      case Subscription::Wait::kEvent:
        if (!writer->Write(event)) return grpc::Status::OK;  // client gone
        break;
      case Subscription::Wait::kIdle:
        break;
      case Subscription::Wait::kOverflowed:
        return grpc::Status(
            grpc::StatusCode::RESOURCE_EXHAUSTED,
            absl::StrCat("this watcher fell ", EventBus::kQueueCapacity,
                         " events behind and ", (*subscription)->dropped(),
                         " were dropped; watch again"));
      case Subscription::Wait::kClosed:
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "argo-hv is shutting down");
    }
  }
  return grpc::Status::CANCELLED;
}

namespace {

void ToProto(const CapturedMessage& m, v1::CapturedMessage* out) {
  const TapRecord& r = m.record;
  out->set_unix_nanos(r.unix_nanos);
  out->set_src_domid(r.source.domain_id);
  out->set_src_port(r.source.aport);
  out->set_dst_domid(r.ring.domain_id);
  out->set_dst_port(r.ring.aport);
  out->set_ring_partner(r.ring_partner);
  out->set_message_type(r.message_type);
  out->set_implicit(r.implicit);
  out->set_from_host(r.from_host);
  out->set_xen_errno(r.xen_errno);
  out->set_payload_len(r.payload_len);
  out->set_payload(m.snapped.data(), m.snapped.size());
}

constexpr absl::Duration kCapturePoll = absl::Milliseconds(20);
constexpr size_t kCaptureBatch = 256;

}  // namespace

grpc::Status ToolstackService::Capture(
    grpc::ServerContext* context, const v1::CaptureRequest* request,
    grpc::ServerWriter<v1::CaptureResponse>* writer) {
  absl::StatusOr<CaptureSpec> spec = CaptureSpecFromRequest(
      *request, [this](bool present, const v1::DomainRef& ref) {
        return ResolveFilter(present, ref);
      });
  if (!spec.ok()) return ToGrpc(spec.status());
  auto capture =
      platform_.StartCapture(spec->filter, spec->buffer_bytes, spec->description);
  if (!capture.ok()) return ToGrpc(capture.status());
  writer->SendInitialMetadata();
  const absl::Time deadline = spec->seconds == 0
                                  ? absl::InfiniteFuture()
                                  : absl::Now() + absl::Seconds(spec->seconds);
  uint64_t captured = 0;
  bool client_gone = false;
  std::vector<CapturedMessage> batch;
  while (!context->IsCancelled()) {
    size_t max = kCaptureBatch;
    if (spec->count != 0) max = std::min<uint64_t>(max, spec->count - captured);
    batch.clear();
    (*capture)->Drain(&batch, max);
    if (!batch.empty()) {
      v1::CaptureResponse response;
      for (const CapturedMessage& m : batch) ToProto(m, response.add_messages());
      captured += batch.size();
      response.set_captured(captured);
      response.set_dropped((*capture)->dropped());
      if (!writer->Write(response)) {
        client_gone = true;
        break;
      }
    }
    if (spec->count != 0 && captured >= spec->count) break;
    if (absl::Now() >= deadline) break;
    if (batch.empty()) absl::SleepFor(kCapturePoll);
  }
  platform_.StopCapture(*capture, spec->description, captured);
  if (client_gone || context->IsCancelled()) return grpc::Status::CANCELLED;
  v1::CaptureResponse last;
  last.set_done(true);
  last.set_captured(captured);
  last.set_dropped((*capture)->dropped());
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status ToolstackService::GetTopology(grpc::ServerContext*,
                                           const v1::GetTopologyRequest*,
                                           v1::Topology* response) {
  const absl::optional<ParentLinkRecord> parent = platform_.parent_link();
  response->set_role(parent.has_value() ? v1::Topology::CHILD
                                        : v1::Topology::ROOT);
  if (parent.has_value()) {
    response->set_level(1);
    response->set_parent(parent->socket);
    response->set_domid_at_parent(parent->domid_in_parent);
    *response->mutable_parent_link() = ParentLinkToProto(*parent);
  }
  for (const ChildLevelRecord& child : platform_.ChildLevels()) {
    response->add_children(child.name);
    *response->add_child_levels() = ChildLevelToProto(child);
  }
  response->set_attach_socket(platform_.attach_socket_path());
  return grpc::Status::OK;
}

grpc::Status ToolstackService::Apply(grpc::ServerContext*,
                                     const v1::ApplyRequest* request,
                                     v1::ApplyResponse* response) {
  const std::string name =
      request->name().empty() ? std::string("config") : request->name();
  absl::StatusOr<AppliedConfig> applied =
      ApplyConfig(platform_, request->config_text(), name,
                  request->policy_file_text());
  if (!applied.ok()) return ToGrpc(applied.status());
  for (const DomainRecord& record : applied->created) {
    *response->add_created() = DomainToProto(record);
  }
  for (const implicit_dest::Cable& c : applied->installed) {
    *response->add_installed() = CableToProto(c);
  }
  return grpc::Status::OK;
}

}  // namespace argo::toolstack
