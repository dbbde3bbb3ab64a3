// A fixture with a hypervisor, a recording VIRQ notifier, a scriptable
// access-control stub and three Argo domains (kA, kB, kC) of 8192 frames.
#ifndef TESTS_TESTING_ARGO_FIXTURE_H_
#define TESTS_TESTING_ARGO_FIXTURE_H_

#include <memory>

#include "argo_core/access_control.h"
#include "argo_core/hypervisor.h"
#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"
#include "tests/testing/raw_guest.h"

namespace argo::testing {

// Returns the configured value from each hook (0 permits). The script may
// change between any two calls, so every decision is declared changed:
// the hypervisor never caches an ENABLE permit from it.
class ScriptedAccessControl final : public AccessControl {
 public:
  int Enable(domid_t d) override {
    DecisionsChanged();
    return d == enable_denied_for ? enable_rc : 0;
  }
  int RegisterSingleSource(domid_t, domid_t) override { return single_rc; }
  int RegisterAnySource(domid_t) override { return any_rc; }
  int Send(domid_t, domid_t, bool) override { return send_rc; }

  domid_t enable_denied_for = DOMID_INVALID;
  int enable_rc = 0;
  int single_rc = 0;
  int any_rc = 0;
  int send_rc = 0;
};

class ArgoFixture : public ::testing::Test {
 protected:
  static constexpr domid_t kA = 1;
  static constexpr domid_t kB = 2;
  static constexpr domid_t kC = 3;
  static constexpr uint64_t kFrames = 8192;

  explicit ArgoFixture(HypervisorOptions options = {}) {
    hv_ = std::make_unique<Hypervisor>(options, &virqs_, &xsm_);
    for (domid_t d : {kA, kB, kC}) AddDomain(d);
    a_ = std::make_unique<RawGuest>(hv_.get(), kA);
    b_ = std::make_unique<RawGuest>(hv_.get(), kB);
    c_ = std::make_unique<RawGuest>(hv_.get(), kC);
  }

  void AddDomain(domid_t d, bool argo = true) {
    ASSERT_TRUE(hv_->CreateDomain(d, DomainConfig{kFrames, argo}).ok());
  }

  // The single ring owned by `owner` with `aport`, from the snapshot list.
  RingSnapshot RingOf(domid_t owner, xen_argo_port_t aport) {
    for (RingSnapshot& s : hv_->ListRings()) {
      if (s.owner == owner && s.id.aport == aport) return s;
    }
    ADD_FAILURE() << "no ring " << owner << ":" << aport;
    return RingSnapshot{};
  }
  size_t RingCount() { return hv_->ListRings().size(); }

  VirqRecorder virqs_;
  ScriptedAccessControl xsm_;
  std::unique_ptr<Hypervisor> hv_;
  std::unique_ptr<RawGuest> a_, b_, c_;
};

}  // namespace argo::testing

#endif  // TESTS_TESTING_ARGO_FIXTURE_H_
