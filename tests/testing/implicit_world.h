// A level (nesting::Level: hypervisor + implicit table + policy engine,
// wired once) with a VIRQ recorder, under the names the implicit-
// destination tests use: hv, table, policy, virqs.
#ifndef TESTS_TESTING_IMPLICIT_WORLD_H_
#define TESTS_TESTING_IMPLICIT_WORLD_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "argo_core/hypervisor.h"
#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/policy_engine.h"
#include "nesting/level.h"
#include "tests/testing/raw_guest.h"

namespace argo::testing {

// A pointer-like view of a part the level owns (get(), ->, *), so tests
// read as if they held the part themselves.
template <typename T>
class Borrowed {
 public:
  explicit Borrowed(T* p) : p_(p) {}
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }

 private:
  T* const p_;
};

struct ImplicitWorld {
  explicit ImplicitWorld(absl::string_view policy_text = {})
      : level(Build(policy_text, &virqs)),
        hv(&level->hypervisor()),
        table(level->table()),
        policy(level->policy()) {}

  // Labels `d` (if `type` is non-empty) and creates it with 8192 frames.
  void AddDomain(domid_t d, absl::string_view type = {}) {
    ASSERT_TRUE(level->CreateDomain(d, DomainConfig{8192, true}, type).ok());
  }
  RawGuest Guest(domid_t d) { return RawGuest(hv.get(), d); }

  // sendv to the implicit sentinel from `guest`'s port `src_port`.
  static int64_t SendImplicit(const RawGuest& guest, xen_argo_port_t src_port,
                              absl::Span<const uint8_t> payload,
                              uint32_t type = 0) {
    return guest.Send(src_port, ARGO_DOMID_IMPLICIT, 0, payload, type);
  }

  VirqRecorder virqs;  // before the level: it outlives the hypervisor
  std::unique_ptr<nesting::Level> level;
  Borrowed<Hypervisor> hv;
  implicit_dest::ImplicitTable& table;
  Borrowed<policy::PolicyEngine> policy;

 private:
  static std::unique_ptr<nesting::Level> Build(absl::string_view policy_text,
                                               VirqNotifier* virqs) {
    nesting::LevelOptions options;
    options.policy_text = std::string(policy_text);
    options.notifier = virqs;
    auto built = nesting::Level::Create(std::move(options));
    if (!built.ok()) {
      ADD_FAILURE() << built.status();
      std::abort();
    }
    return *std::move(built);
  }
};

}  // namespace argo::testing

#endif  // TESTS_TESTING_IMPLICIT_WORLD_H_
