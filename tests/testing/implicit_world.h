// A hypervisor wired with the implicit-destination table and the policy
// engine, as the daemon will wire them: hypervisor -> hooks, table ->
// hypervisor (generations, grace period), engine -> grace period.
#ifndef TESTS_TESTING_IMPLICIT_WORLD_H_
#define TESTS_TESTING_IMPLICIT_WORLD_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "argo_core/hypervisor.h"
#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"
#include "implicit_dest/hypervisor_directory.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/policy_engine.h"
#include "tests/testing/raw_guest.h"

namespace argo::testing {

struct ImplicitWorld {
  explicit ImplicitWorld(absl::string_view policy_text = {}) {
    auto created = policy::PolicyEngine::Create(policy_text);
    if (!created.ok()) ADD_FAILURE() << created.status();
    policy = *std::move(created);
    hv = std::make_unique<Hypervisor>(HypervisorOptions{}, &virqs, policy.get(),
                                      &table);
    directory = std::make_unique<implicit_dest::HypervisorDirectory>(hv.get());
    table.Bind(directory.get());
    policy->SetGracePeriod([hv = hv.get()] { hv->WaitForHypercalls(); });
  }

  // The hypervisor's teardown reports each domain to the table, which
  // uses the directory: it goes first.
  ~ImplicitWorld() { hv.reset(); }

  // Labels `d` (if `type` is non-empty) and creates it with 8192 frames.
  void AddDomain(domid_t d, absl::string_view type = {}) {
    if (!type.empty()) ASSERT_TRUE(policy->Relabel(d, type).ok());
    ASSERT_TRUE(hv->CreateDomain(d, DomainConfig{8192, true}).ok());
  }
  RawGuest Guest(domid_t d) { return RawGuest(hv.get(), d); }

  // sendv to the implicit sentinel from `guest`'s port `src_port`.
  static int64_t SendImplicit(const RawGuest& guest, xen_argo_port_t src_port,
                              absl::Span<const uint8_t> payload,
                              uint32_t type = 0) {
    return guest.Send(src_port, ARGO_DOMID_IMPLICIT, 0, payload, type);
  }

  VirqRecorder virqs;
  implicit_dest::ImplicitTable table;
  std::unique_ptr<policy::PolicyEngine> policy;
  std::unique_ptr<Hypervisor> hv;
  std::unique_ptr<implicit_dest::HypervisorDirectory> directory;
};

}  // namespace argo::testing

#endif  // TESTS_TESTING_IMPLICIT_WORLD_H_
