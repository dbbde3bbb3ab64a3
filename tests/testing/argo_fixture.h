// A fixture with a hypervisor, a recording VIRQ notifier, a scriptable
// access-control stub and three Argo domains (kA, kB, kC) of 8192 frames.
//
// Compiled with ARGO_OVER_TRANSPORT (a test target's local_defines), every
// guest the fixture hands out is attached through a TransportHarness (the
// real attach socket and io_uring server) and issues its ops through the
// attachment's HypercallPort on the attached memory view: odd domids in
// blocking mode, even ones in low-latency mode. VIRQs still go to the
// recorder (the server's own wake sockets are never raised), so tests
// count them the same way. Tests must make guests with Guest(d) and
// destroy domains with DestroyDomain(d) so both builds hold.
#ifndef TESTS_TESTING_ARGO_FIXTURE_H_
#define TESTS_TESTING_ARGO_FIXTURE_H_

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "argo_core/access_control.h"
#include "argo_core/hypervisor.h"
#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"
#include "tests/testing/raw_guest.h"
#include "tests/testing/transport_harness.h"

namespace argo::testing {

// Returns the configured value from each hook (0 permits). The script may
// change between any two calls, so every decision is declared changed:
// the hypervisor never caches an ENABLE permit from it. Atomic: over the
// transport the hooks run on the server's thread, ordered after the test's
// writes only through the doorbell page, which TSan cannot see.
class ScriptedAccessControl final : public AccessControl {
 public:
  int Enable(domid_t d) override {
    DecisionsChanged();
    return d == enable_denied_for ? enable_rc.load() : 0;
  }
  int RegisterSingleSource(domid_t, domid_t) override { return single_rc; }
  int RegisterAnySource(domid_t) override { return any_rc; }
  int Send(domid_t, domid_t, bool) override { return send_rc; }

  std::atomic<domid_t> enable_denied_for{DOMID_INVALID};
  std::atomic<int> enable_rc{0};
  std::atomic<int> single_rc{0};
  std::atomic<int> any_rc{0};
  std::atomic<int> send_rc{0};
};

class ArgoFixture : public ::testing::Test {
 protected:
  static constexpr domid_t kA = 1;
  static constexpr domid_t kB = 2;
  static constexpr domid_t kC = 3;
  static constexpr uint64_t kFrames = 8192;

  explicit ArgoFixture(HypervisorOptions options = {}) {
    hv_ = std::make_unique<Hypervisor>(options, &virqs_, &xsm_);
#ifdef ARGO_OVER_TRANSPORT
    absl::StatusOr<std::unique_ptr<TransportHarness>> harness =
        TransportHarness::Start(hv_.get());
    if (!harness.ok()) Die("transport harness", harness.status());
    harness_ = *std::move(harness);
#endif
    for (domid_t d : {kA, kB, kC}) AddDomain(d);
    a_ = Guest(kA);
    b_ = Guest(kB);
    c_ = Guest(kC);
  }

  void AddDomain(domid_t d, bool argo = true, uint64_t frames = kFrames) {
    ASSERT_TRUE(hv_->CreateDomain(d, DomainConfig{frames, argo}).ok());
  }

  // A guest for domain `d` (which must exist): in-process, or attached
  // over the transport (kept attached until the fixture ends or
  // DestroyDomain(d)).
  std::unique_ptr<RawGuest> Guest(domid_t d) {
#ifdef ARGO_OVER_TRANSPORT
    const transport::Mode mode = d % 2 == 1 ? transport::Mode::kBlocking
                                            : transport::Mode::kLowLatency;
    absl::StatusOr<std::unique_ptr<guest::Attachment>> attached =
        harness_->Attach(d, mode);
    if (!attached.ok()) Die("attach", attached.status());
    auto g = std::make_unique<RawGuest>((*attached)->port(),
                                        (*attached)->memory(), d);
    attachments_.push_back(*std::move(attached));
    return g;
#else
    return std::make_unique<RawGuest>(hv_.get(), d);
#endif
  }

  // Destroys domain `d`. Over the transport the toolstack's order: its
  // process is evicted first (no op of it runs afterwards; its RawGuest
  // then answers -EIO), so the domid can be re-created and re-attached.
  absl::Status DestroyDomain(domid_t d) {
#ifdef ARGO_OVER_TRANSPORT
    harness_->server().Evict(d);
#endif
    return hv_->DestroyDomain(d);
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
  // Declared after hv_ and before the guests: guests go first, then their
  // attachments (the server crash-resets their domains on hv_), then the
  // server, then the hypervisor.
  std::unique_ptr<TransportHarness> harness_;
  std::vector<std::unique_ptr<guest::Attachment>> attachments_;
  std::unique_ptr<RawGuest> a_, b_, c_;

 private:
  // A fixture that cannot set up has no test to run: say why and stop.
  [[noreturn]] static void Die(const char* what, const absl::Status& status) {
    std::cerr << "ArgoFixture: " << what << ": " << status << std::endl;
    std::abort();
  }
};

}  // namespace argo::testing

#endif  // TESTS_TESTING_ARGO_FIXTURE_H_
