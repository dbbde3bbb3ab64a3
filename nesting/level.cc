#include "nesting/level.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace argo::nesting {

absl::StatusOr<std::unique_ptr<Level>> Level::Create(LevelOptions options) {
  std::unique_ptr<Level> level(new Level());
  if (options.access_control) {
    // "" is the engine's own embedded default.
    absl::StatusOr<std::unique_ptr<policy::PolicyEngine>> engine =
        policy::PolicyEngine::Create(options.policy_text, options.policy_name);
    if (!engine.ok()) return engine.status();
    level->policy_ = *std::move(engine);
  }
  HypervisorOptions hv_options;
  hv_options.ring_observer = options.ring_observer;
  hv_options.max_window_segments = options.max_window_segments;
  hv_options.wildcard_rings_permitted = options.wildcard_rings_permitted;
  if (options.notifier != nullptr) level->notifier_ = options.notifier;
  level->hv_ = std::make_unique<Hypervisor>(
      hv_options, level->notifier_, level->policy_.get(), &level->table_);
  // One grace period for both: the hypervisor's.
  level->table_.Bind(level->hv_.get());
  if (level->policy_ != nullptr) {
    level->policy_->BindGracePeriod(level->hv_.get());
  }
  return level;
}

Level::~Level() {
  // The hypervisor's teardown reports to the table, the policy and the
  // observer: it goes first, while they are all alive.
  hv_.reset();
}

absl::Status Level::CreateDomain(domid_t domid, const DomainConfig& config,
                                 absl::string_view label,
                                 uint8_t capabilities) {
  if (!label.empty() && policy_ == nullptr) {
    return absl::FailedPreconditionError(
        "this level has no access control: domains carry no label");
  }
  const bool attributes =
      policy_ != nullptr && (!label.empty() || capabilities != 0);
  if (attributes) {
    if (hv_->DomainExists(domid)) {
      return absl::AlreadyExistsError(
          absl::StrCat("domain ", domid, " exists"));
    }
    if (!label.empty()) {
      if (absl::Status s = policy_->Relabel(domid, label); !s.ok()) return s;
    }
    if (absl::Status s = policy_->SetCapabilities(domid, capabilities);
        !s.ok()) {
      policy_->Forget(domid);
      return s;
    }
  }
  absl::Status created = hv_->CreateDomain(domid, config);
  if (!created.ok() && attributes) policy_->Forget(domid);
  return created;
}

absl::Status Level::CrashDomain(domid_t domid) {
  return hv_->ResetDomain(domid);
}

absl::Status Level::DestroyDomain(domid_t domid) {
  return hv_->DestroyDomain(domid);
}

void Level::Reset() {
  for (domid_t domid : hv_->ListDomains()) {
    hv_->DestroyDomain(domid).IgnoreError();  // raced away: gone anyway
  }
}

implicit_dest::RouteExplanation Level::Explain(
    implicit_dest::Endpoint from, uint32_t payload,
    const implicit_dest::DomainNamer& namer) {
  return implicit_dest::ExplainRoute(*hv_, table_, policy_.get(), from,
                                     payload, namer);
}

}  // namespace argo::nesting
