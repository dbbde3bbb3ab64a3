// The nesting tests' world (in process, nesting::Stack): L0 with a storage
// guest, L1a (domain kL1 of L0) with a guest, L2 (domain kL2 of L1a) with
// two guests, and a second L1 (kL1b of L0) with a guest. Cables are the
// tests' own; Reply/Expect helpers read rings with the §3.5 reader.
#ifndef TESTS_NESTING_NESTING_WORLD_H_
#define TESTS_NESTING_NESTING_WORLD_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "argo_core/name_path.h"
#include "argo_core/public/argo_nesting.h"
#include "gtest/gtest.h"
#include "guest/guest.h"
#include "guest/received_path.h"
#include "nesting/stack.h"

namespace argo::testing {

// A received message with its path parsed (depth 0: a plain message).
struct PathMessage {
  xen_argo_addr_t source{};
  uint32_t message_type = 0;  // the original type
  NamePath path;
  std::string payload;  // after the block
};

inline absl::optional<PathMessage> Parse(const ReceivedMessage& m) {
  absl::StatusOr<absl::optional<guest::ReceivedPath>> read =
      guest::ParseReceivedPath(m);
  if (!read.ok()) return absl::nullopt;
  PathMessage out;
  out.source = m.source;
  out.message_type = m.message_type;
  absl::Span<const uint8_t> payload = absl::MakeConstSpan(m.payload);
  if (read->has_value()) {
    out.path = (*read)->path;
    out.message_type = out.path.message_type;
    payload = (*read)->payload;
  }
  out.payload.assign(payload.begin(), payload.end());
  return out;
}

class NestingWorld {
 public:
  // Domain ids (each level names only its own).
  static constexpr domid_t kStorage = 1;  // at L0
  static constexpr domid_t kL1 = 10;      // L1a's domain at L0
  static constexpr domid_t kL1b = 11;     // L1b's domain at L0
  static constexpr domid_t kL1Guest = 1;  // at L1a
  static constexpr domid_t kL2 = 20;      // L2's domain at L1a
  static constexpr domid_t kL2Guest = 1;  // at L2
  static constexpr domid_t kL2Peer = 2;   // at L2
  static constexpr domid_t kL1bGuest = 1;  // at L1b

  absl::Status Build(nesting::ChildLevelOptions options) {
    auto stack = nesting::Stack::Create();
    if (!stack.ok()) return stack.status();
    stack_ = *std::move(stack);
    l0_ = &stack_->root();
    auto l1 = stack_->AddLevel(*l0_, "l1a", kL1, options);
    if (!l1.ok()) return l1.status();
    l1_ = *l1;
    auto l1b = stack_->AddLevel(*l0_, "l1b", kL1b, options);
    if (!l1b.ok()) return l1b.status();
    l1b_ = *l1b;
    auto l2 = stack_->AddLevel(*l1_, "l2", kL2, options);
    if (!l2.ok()) return l2.status();
    l2_ = *l2;
    for (auto [node, d] : {std::pair{l0_, kStorage}, {l1_, kL1Guest},
                           {l2_, kL2Guest}, {l2_, kL2Peer}, {l1b_, kL1bGuest}}) {
      if (absl::Status s = stack_->AddDomain(*node, d); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  nesting::Stack& stack() { return *stack_; }
  nesting::Stack::Node& l0() { return *l0_; }
  nesting::Stack::Node& l1() { return *l1_; }
  nesting::Stack::Node& l1b() { return *l1b_; }
  nesting::Stack::Node& l2() { return *l2_; }

  // A guest at `node` with a wildcard ring on `port`.
  struct Endpoint {
    std::unique_ptr<guest::Guest> guest;
    GuestRing* ring = nullptr;
  };
  Endpoint Listen(nesting::Stack::Node& node, domid_t d, xen_argo_port_t port,
                  uint32_t len = 64 * 1024) {
    Endpoint e;
    auto g = stack_->GuestAt(node, d);
    EXPECT_TRUE(g.ok()) << g.status();
    if (!g.ok()) return e;
    e.guest = *std::move(g);
    auto ring = e.guest->RegisterRing(port, XEN_ARGO_DOMID_ANY, len);
    EXPECT_TRUE(ring.ok()) << ring.status();
    if (ring.ok()) e.ring = *ring;
    return e;
  }

  static void Cable(nesting::Stack::Node& node, implicit_dest::Endpoint a,
                    implicit_dest::Endpoint b) {
    ASSERT_TRUE(node.level->table().Connect(a, b, true).ok());
  }

 private:
  std::unique_ptr<nesting::Stack> stack_;
  nesting::Stack::Node* l0_ = nullptr;
  nesting::Stack::Node* l1_ = nullptr;
  nesting::Stack::Node* l1b_ = nullptr;
  nesting::Stack::Node* l2_ = nullptr;
};

// The next message on `ring`, pumping the stack (inline mode) or waiting
// for the drainers (threaded) up to ~5 s.
inline absl::optional<PathMessage> Receive(nesting::Stack& stack,
                                           GuestRing* ring) {
  for (int i = 0; i < 5000; ++i) {
    stack.PumpAll();
    auto m = ring->Read();
    if (!m.ok()) return absl::nullopt;
    if (m->has_value()) return Parse(**m);
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::nullopt;
}

inline std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

}  // namespace argo::testing

#endif  // TESTS_NESTING_NESTING_WORLD_H_
