#include "toolstack_api/boot_config.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "implicit_dest/policy/compiled_policy.h"
#include "implicit_dest/policy/text_errors.h"
#include "toolstack_api/convert.h"
#include "toolstack_api/endpoint_text.h"

namespace argo::toolstack {
namespace {

using config::v1::Config;
using google::protobuf::TextFormat;
using policy::Locator;

// Same as the status, with the entry's place put in front.
absl::Status At(const Locator& at, const google::protobuf::Descriptor* type,
                absl::string_view field, const absl::Status& s) {
  const absl::Status located = at.Error(type, field, -1, s.message());
  return absl::Status(s.code(), located.message());
}

// The same for the policy_modules list (repeated: placed at its first
// element).
absl::Status AtModules(const Locator& at, const absl::Status& s) {
  const absl::Status located =
      at.Error(Config::descriptor(), "policy_modules", 0,
               absl::StrCat("policy_modules: ", s.message()));
  return absl::Status(s.code(), located.message());
}

// Undoes what an apply did, newest first (best effort: every step is
// something the platform just did and can undo).
class Undo {
 public:
  explicit Undo(Platform& platform) : platform_(platform) {}
  ~Undo() {
    if (committed_) return;
    for (auto it = cables_.rbegin(); it != cables_.rend(); ++it) {
      platform_.Disconnect(it->from, /*one_way=*/true).IgnoreError();
    }
    for (auto it = domains_.rbegin(); it != domains_.rend(); ++it) {
      platform_.DestroyDomain(*it).IgnoreError();
    }
    if (!old_modules_.empty()) {
      platform_.LoadModules(old_modules_).IgnoreError();
    } else if (old_policy_.has_value()) {
      platform_.LoadPolicy(*old_policy_, "the policy before the failed apply")
          .IgnoreError();
    }
  }
  // The policy in force before: its text, and its modules if modular.
  void PolicyReplaced(std::string old_text, std::vector<std::string> modules) {
    old_policy_ = std::move(old_text);
    old_modules_ = std::move(modules);
  }
  void Created(domid_t id) { domains_.push_back(id); }
  void Installed(const std::vector<implicit_dest::Cable>& cables) {
    cables_.insert(cables_.end(), cables.begin(), cables.end());
  }
  void Commit() { committed_ = true; }

 private:
  Platform& platform_;
  bool committed_ = false;
  absl::optional<std::string> old_policy_;
  std::vector<std::string> old_modules_;
  std::vector<domid_t> domains_;
  std::vector<implicit_dest::Cable> cables_;
};

// Checks what can be checked without the live state: sizes, unique names
// and ids, endpoint syntax, no unresolved policy_file.
absl::Status CheckStatically(const Config& config, const Locator& at,
                             absl::string_view policy_file_text) {
  const auto* type = Config::descriptor();
  if (config.policy_case() == Config::kPolicyFile &&
      policy_file_text.empty()) {
    return at.Error(type, "policy_file", -1,
                    "policy_file: its content did not come with the "
                    "configuration (argoctl apply and argo-hv --config read "
                    "it; the daemon reads no client paths), or use "
                    "policy_text");
  }
  // A policy file's content sent with a configuration that names none
  // would be ignored: refuse rather than apply something other than what
  // the client meant.
  if (config.policy_case() != Config::kPolicyFile &&
      !policy_file_text.empty()) {
    return at.Error(type, "policy_file", -1,
                    "policy_file: a policy file's content came with a "
                    "configuration that names no policy_file; it would be "
                    "ignored");
  }
  // Fail closed: a blank policy is never "no policy" (the platform's
  // meaning of "" is the permissive default).
  if (config.policy_case() == Config::kPolicyFile &&
      IsBlankText(policy_file_text)) {
    return at.Error(type, "policy_file", -1,
                    absl::StrCat("policy_file: ", config.policy_file(),
                                 " is empty; ", kEmptyPolicyAdvice));
  }
  if (config.policy_case() == Config::kPolicyText &&
      IsBlankText(config.policy_text())) {
    return at.Error(type, "policy_text", -1,
                    absl::StrCat("policy_text: is empty; ", kEmptyPolicyAdvice));
  }
  // One policy: a whole one or modules, never both (which would win is
  // not something a reader should have to know).
  if (config.policy_modules_size() > 0 &&
      config.policy_case() != Config::POLICY_NOT_SET) {
    return at.Error(
        type, "policy_modules", 0,
        absl::StrCat("policy_modules: a configuration gives a whole policy (",
                     config.policy_case() == Config::kPolicyFile
                         ? "policy_file"
                         : "policy_text",
                     ") or policy modules, not both"));
  }
  if (config.policy_modules_size() > 0 &&
      config.policy_modules(0) != "core") {
    return at.Error(type, "policy_modules", 0,
                    "policy_modules: the list starts with \"core\"");
  }
  if (config.domain_size() > kMaxConfigDomains) {
    return at.Error(type, "domain", kMaxConfigDomains,
                    absl::StrCat("domain: more than ", kMaxConfigDomains));
  }
  if (config.cable_size() > kMaxConfigCables) {
    return at.Error(type, "cable", kMaxConfigCables,
                    absl::StrCat("cable: more than ", kMaxConfigCables));
  }
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<uint32_t> ids;
  const auto* domain_type = config::v1::Domain::descriptor();
  for (int i = 0; i < config.domain_size(); ++i) {
    const config::v1::Domain& d = config.domain(i);
    const Locator d_at = at.Nested(type->FindFieldByName("domain"), i);
    if (!names.insert(d.name()).second) {
      return d_at.Error(domain_type, "name", -1,
                        absl::StrCat("domain.name: \"", d.name(),
                                     "\" is named twice"));
    }
    if (d.id() > 0xFFFF) {
      return d_at.Error(domain_type, "id", -1,
                        absl::StrCat("domain.id: ", d.id(), " is not a domid"));
    }
    if (d.id() != 0 && !ids.insert(d.id()).second) {
      return d_at.Error(domain_type, "id", -1,
                        absl::StrCat("domain.id: ", d.id(), " is used twice"));
    }
    // Capabilities: known names, each once (the spec is built again when
    // the domain is created, and must be valid then).
    if (absl::StatusOr<DomainSpec> spec = DomainSpecFromProto(d); !spec.ok()) {
      return d_at.Error(domain_type, "capabilities", 0,
                        absl::StrCat("domain.", spec.status().message()));
    }
  }
  const auto* cable_type = config::v1::Cable::descriptor();
  for (int i = 0; i < config.cable_size(); ++i) {
    const config::v1::Cable& c = config.cable(i);
    const Locator c_at = at.Nested(type->FindFieldByName("cable"), i);
    for (const auto& [field, text] : {std::pair{"from", &c.from()},
                                      std::pair{"to", &c.to()}}) {
      absl::StatusOr<v1::Endpoint> e = ParseEndpoint(*text);
      if (!e.ok()) {
        return c_at.Error(cable_type, field, -1,
                          absl::StrCat("cable.", field, ": ",
                                       e.status().message()));
      }
    }
  }
  return absl::OkStatus();
}

// Checks the domains against the live level and the policy they will be
// labelled under, before anything changes: names and ids free, labels
// declared. (Apply still undoes its steps if something changes under it.)
absl::Status CheckAgainstLevel(Platform& platform, const Config& config,
                               const Locator& at,
                               absl::string_view policy_file_text) {
  const auto* type = Config::descriptor();
  std::string policy_text =
      config.policy_case() == Config::kPolicyText ? config.policy_text()
      : config.policy_case() == Config::kPolicyFile
          ? std::string(policy_file_text)
          : platform.policy().Text();
  if (config.policy_modules_size() > 0) {
    // Unknown modules and conflicts are refused here, before anything
    // changes, at the list's line.
    std::vector<std::string> names(config.policy_modules().begin(),
                                   config.policy_modules().end());
    absl::StatusOr<std::string> assembled = platform.AssembleModules(names);
    if (!assembled.ok()) {
      return AtModules(at, assembled.status());
    }
    policy_text = *std::move(assembled);
  }
  auto policy = policy::CompiledPolicy::Compile(policy_text, "policy");
  const auto* domain_type = config::v1::Domain::descriptor();
  for (int i = 0; i < config.domain_size(); ++i) {
    const config::v1::Domain& d = config.domain(i);
    const Locator d_at = at.Nested(type->FindFieldByName("domain"), i);
    if (platform.Resolve(d.name()).ok()) {
      return absl::AlreadyExistsError(
          d_at.Error(domain_type, "name", -1,
                     absl::StrCat("domain.name: a domain named \"", d.name(),
                                  "\" exists"))
              .message());
    }
    if (d.id() != 0 && platform.Resolve(static_cast<domid_t>(d.id())).ok()) {
      return absl::AlreadyExistsError(
          d_at.Error(domain_type, "id", -1,
                     absl::StrCat("domain.id: domid ", d.id(), " is in use"))
              .message());
    }
    // A policy that does not compile is reported when it is loaded.
    if (policy.ok() && !d.label().empty() &&
        !(*policy)->DomainTypeIndex(d.label()).has_value()) {
      return d_at.Error(domain_type, "label", -1,
                        absl::StrCat("domain.label: type \"", d.label(),
                                     "\" is not declared by the policy"));
    }
  }
  return absl::OkStatus();
}

// A cable end as written ("name:7", "parent:9"), resolved on the level.
absl::StatusOr<implicit_dest::Endpoint> ResolveEnd(Platform& platform,
                                                   const std::string& text) {
  absl::StatusOr<v1::Endpoint> e = ParseEndpoint(text);
  if (!e.ok()) return e.status();
  return platform.ResolveEndpoint(*e, text);
}

// Parses a configuration's text; InvalidArgument for one that is too
// large, blank or malformed.
absl::Status Parse(absl::string_view text, absl::string_view name,
                   Config* config, TextFormat::ParseInfoTree* tree) {
  if (text.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": larger than ", kMaxConfigBytes, " bytes"));
  }
  if (IsBlankText(text)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": the configuration is empty; ", kEmptyConfigAdvice));
  }
  return policy::ParseTextWithLocations(text, name, config, tree);
}

}  // namespace

absl::StatusOr<absl::optional<ParentSpec>> ParentFromConfig(
    absl::string_view text, absl::string_view name) {
  Config config;
  TextFormat::ParseInfoTree tree;
  if (absl::Status s = Parse(text, name, &config, &tree); !s.ok()) return s;
  if (!config.has_parent()) return absl::nullopt;
  const config::v1::Parent& p = config.parent();
  ParentSpec spec;
  spec.socket = p.socket();
  spec.domain = p.domain();
  spec.token = p.token();
  if (p.cpus() != 0) spec.cpus = p.cpus();
  std::string field;
  if (absl::Status s = Platform::CheckParentSpec(spec, &field); !s.ok()) {
    const Locator at(name, &tree);
    const Locator p_at =
        at.Nested(Config::descriptor()->FindFieldByName("parent"), -1);
    return p_at.Error(config::v1::Parent::descriptor(), field, -1,
                      absl::StrCat("parent.", s.message()));
  }
  return spec;
}

absl::StatusOr<AppliedConfig> ApplyConfig(Platform& platform,
                                          absl::string_view text,
                                          absl::string_view name,
                                          absl::string_view policy_file_text,
                                          ConfigOrigin origin) {
  Config config;
  TextFormat::ParseInfoTree tree;
  if (absl::Status s = Parse(text, name, &config, &tree); !s.ok()) return s;
  const Locator at(name, &tree);
  if (config.has_parent() && origin == ConfigOrigin::kApi) {
    return at.Error(Config::descriptor(), "parent", -1,
                    "parent: a running level's parent cannot change; only "
                    "argo-hv --config reads it, at start");
  }
  if (absl::Status s = CheckStatically(config, at, policy_file_text);
      !s.ok()) {
    return s;
  }

  if (absl::Status s =
          CheckAgainstLevel(platform, config, at, policy_file_text);
      !s.ok()) {
    return s;
  }

  AppliedConfig applied;
  Undo undo(platform);
  const auto* type = Config::descriptor();
  if (config.policy_case() != Config::POLICY_NOT_SET) {
    const bool from_file = config.policy_case() == Config::kPolicyFile;
    const std::string field = from_file ? "policy_file" : "policy_text";
    std::string old_text = platform.policy().Text();
    std::vector<std::string> old_modules = platform.EnabledModules();
    absl::Status loaded = platform.LoadPolicy(
        from_file ? policy_file_text : config.policy_text(),
        from_file ? config.policy_file() : absl::StrCat(name, " policy_text"));
    if (!loaded.ok()) return At(at, type, field, loaded);
    undo.PolicyReplaced(std::move(old_text), std::move(old_modules));
  } else if (config.policy_modules_size() > 0) {
    std::string old_text = platform.policy().Text();
    std::vector<std::string> old_modules = platform.EnabledModules();
    absl::Status loaded = platform.LoadModules(std::vector<std::string>(
        config.policy_modules().begin(), config.policy_modules().end()));
    if (!loaded.ok()) {
      return AtModules(at, loaded);
    }
    undo.PolicyReplaced(std::move(old_text), std::move(old_modules));
  }
  const auto* domain_type = config::v1::Domain::descriptor();
  for (int i = 0; i < config.domain_size(); ++i) {
    const config::v1::Domain& d = config.domain(i);
    // The id and capabilities were checked statically: the spec is valid.
    auto created = platform.CreateDomain(DomainSpecFromProto(d).value());
    if (!created.ok()) {
      return At(at.Nested(type->FindFieldByName("domain"), i), domain_type,
                "name", absl::Status(created.status().code(),
                                     absl::StrCat("domain \"", d.name(), "\": ",
                                                  created.status().message())));
    }
    undo.Created(created->first.id);
    applied.created.push_back(std::move(created->first));
  }
  const auto* cable_type = config::v1::Cable::descriptor();
  for (int i = 0; i < config.cable_size(); ++i) {
    const config::v1::Cable& c = config.cable(i);
    const Locator c_at = at.Nested(type->FindFieldByName("cable"), i);
    auto from = ResolveEnd(platform, c.from());
    if (!from.ok()) return At(c_at, cable_type, "from", from.status());
    auto to = ResolveEnd(platform, c.to());
    if (!to.ok()) return At(c_at, cable_type, "to", to.status());
    auto installed = platform.Connect(*from, *to, c.one_way());
    if (!installed.ok()) {
      return At(c_at, cable_type, "from",
                absl::Status(installed.status().code(),
                             absl::StrCat("cable ", c.from(), " -> ", c.to(),
                                          ": ", installed.status().message())));
    }
    undo.Installed(*installed);
    applied.installed.insert(applied.installed.end(), installed->begin(),
                             installed->end());
  }
  undo.Commit();
  // Measured once applied whole: its exact bytes (the policy it loaded and
  // the capabilities it granted were measured as they took effect).
  platform.launch_log().Measure(MeasurementKind::kConfig,
                                Platform::MeasuredName(name), text);
  return applied;
}

}  // namespace argo::toolstack
