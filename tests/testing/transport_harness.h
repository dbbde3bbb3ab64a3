// A guest server on a private attach socket in front of a given
// hypervisor, with a test authority (one token per domain, crash reset on
// detach) — the transport without the toolstack, for tests and benchmarks.
#ifndef TESTS_TESTING_TRANSPORT_HARNESS_H_
#define TESTS_TESTING_TRANSPORT_HARNESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "argo_core/hypervisor.h"
#include "argo_core/mutex.h"
#include "guest/attachment.h"
#include "transport/guest_server.h"
#include "transport/virq_sockets.h"

namespace argo::testing {

class TestAuthority final : public transport::AttachAuthority {
 public:
  explicit TestAuthority(Hypervisor* hv) : hv_(hv) {}

  // Domain `id`'s token is "t" + hex(id) until SetToken.
  static std::string TokenFor(domid_t id);
  void SetToken(domid_t id, std::string token);

  absl::StatusOr<transport::AttachGrant> Attach(
      const transport::AttachRequest& request, pid_t pid) override;
  void Detached(domid_t domid, pid_t pid, transport::DetachReason reason,
                absl::string_view detail) override;

  pid_t AttachedPid(domid_t id);
  // Crash resets run so far (detaches with kClosed or kProtocolError).
  int crashes();
  // "attach ID" (or "attach ID as a level of N cpus"), "detach ID ...".
  std::vector<std::string> log();

 private:
  Hypervisor* const hv_;
  Mutex mu_;
  absl::flat_hash_map<domid_t, std::string> tokens_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<domid_t, pid_t> attached_ ABSL_GUARDED_BY(mu_);
  int crashes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
};

class TransportHarness {
 public:
  // `virqs` (may be null: the harness's own) is what the server installs
  // attached guests' VIRQ pipes in; pass the hypervisor's notifier to see
  // VIRQs reach guests.
  static absl::StatusOr<std::unique_ptr<TransportHarness>> Start(
      Hypervisor* hv, transport::VirqSockets* virqs = nullptr,
      transport::GuestServerOptions options = {});
  ~TransportHarness();

  const std::string& socket_path() const { return path_; }
  TestAuthority& authority() { return authority_; }
  transport::GuestServer& server() { return *server_; }

  // Attaches to `id` in this process with its token.
  absl::StatusOr<std::unique_ptr<guest::Attachment>> Attach(
      domid_t id, transport::Mode mode = transport::Mode::kBlocking,
      uint32_t vcpus = 1);
  guest::AttachOptions OptionsFor(domid_t id, transport::Mode mode,
                                  uint32_t vcpus = 1);

 private:
  explicit TransportHarness(Hypervisor* hv) : authority_(hv) {}

  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  TestAuthority authority_;
  transport::VirqSockets own_virqs_;
  std::unique_ptr<transport::GuestServer> server_;
};

// A bare hypervisor (no access control) with domains 1..n behind a
// harness whose wake sockets are the hypervisor's VIRQ notifier: the
// transport tests' world.
struct TransportWorld {
  absl::Status Start(domid_t domains, uint64_t frames);
  void Stop();  // the server first, then the hypervisor

  transport::VirqSockets virqs;
  std::unique_ptr<Hypervisor> hv;
  std::unique_ptr<TransportHarness> harness;
};

}  // namespace argo::testing

#endif  // TESTS_TESTING_TRANSPORT_HARNESS_H_
