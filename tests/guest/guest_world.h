// The world every guest-library test runs against: one level (hypervisor,
// implicit table, default policy) behind a real attach socket, domains
// kA and kB, and one cable kA:kCableA <-> kB:kCableB. VIRQs reach attached
// guests through the harness's wake sockets.
#ifndef TESTS_GUEST_GUEST_WORLD_H_
#define TESTS_GUEST_GUEST_WORLD_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "guest/guest.h"
#include "nesting/level.h"
#include "tests/testing/transport_harness.h"
#include "transport/virq_sockets.h"

namespace argo::testing {

class GuestWorld {
 public:
  static constexpr domid_t kA = 1;
  static constexpr domid_t kB = 2;
  static constexpr xen_argo_port_t kCableA = 7;
  static constexpr xen_argo_port_t kCableB = 10;

  absl::Status Start(uint64_t frames = 512) {
    nesting::LevelOptions options;
    options.notifier = &virqs_;
    absl::StatusOr<std::unique_ptr<nesting::Level>> level =
        nesting::Level::Create(std::move(options));
    if (!level.ok()) return level.status();
    level_ = *std::move(level);
    for (domid_t d : {kA, kB}) {
      absl::Status s = level_->CreateDomain(d, DomainConfig{frames, true});
      if (!s.ok()) return s;
    }
    absl::Status cabled =
        level_->table().Connect({kA, kCableA}, {kB, kCableB}, true);
    if (!cabled.ok()) return cabled;
    absl::StatusOr<std::unique_ptr<TransportHarness>> harness =
        TransportHarness::Start(&level_->hypervisor(), &virqs_);
    if (!harness.ok()) return harness.status();
    harness_ = *std::move(harness);
    return absl::OkStatus();
  }

  // Stops the attach server: attached guests see argo-hv go away.
  void StopServer() { harness_.reset(); }

  nesting::Level& level() { return *level_; }
  Hypervisor& hv() { return level_->hypervisor(); }
  TransportHarness& harness() { return *harness_; }
  const std::string& socket_path() const { return harness_->socket_path(); }
  static std::string TokenFor(domid_t d) { return TestAuthority::TokenFor(d); }

 private:
  // Declared so that destruction runs harness, level, then the notifier
  // the level's hypervisor raises VIRQs through.
  transport::VirqSockets virqs_;
  std::unique_ptr<nesting::Level> level_;
  std::unique_ptr<TransportHarness> harness_;
};

// Reads `ring`'s next message, waiting for VIRQs up to ~10 s.
inline absl::optional<ReceivedMessage> NextMessage(guest::Guest& g,
                                                   GuestRing* ring) {
  for (int i = 0; i < 100; ++i) {
    auto m = ring->Read();
    if (!m.ok()) return absl::nullopt;
    if (m->has_value()) return **m;
    if (!g.WaitVirq(absl::Milliseconds(100)).ok()) return absl::nullopt;
  }
  return absl::nullopt;
}

}  // namespace argo::testing

#endif  // TESTS_GUEST_GUEST_WORLD_H_
