// The in-process nesting simulator (DESIGN §7): a tree of levels of any
// depth and fan-out in one process, each level a nesting::Level whose
// parent link is an in-process guest of its parent level. Tests,
// benchmarks and the demo's quick path build L0/L1/L2 with it; the
// multi-process form (argo-hv --parent) runs the same Level and ParentLink
// with an attached guest instead.
//
// Thread safety: building (AddLevel, AddDomain, GuestAt) is for one thread;
// the levels and guests it hands out are as thread-safe as they are.
#ifndef NESTING_STACK_H_
#define NESTING_STACK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "argo_core/guest/in_process_port.h"
#include "argo_core/virq_recorder.h"
#include "guest/guest.h"
#include "guest/virq_waiter.h"
#include "nesting/level.h"
#include "nesting/parent_link.h"

namespace argo::nesting {

// How Stack::AddLevel builds a child level.
struct ChildLevelOptions {
  uint32_t cpus = 1;
  uint32_t buffer_bytes = 256 * 1024;
  bool threads = true;  // false: deliveries down happen in Pump()
  LevelOptions level;   // notifier is the stack's own
};

class Stack {
 public:
  // One level of the tree.
  struct Node {
    std::string name;
    Node* parent = nullptr;         // null for the root
    domid_t domid_in_parent = 0;    // this level's domain in its parent
    std::unique_ptr<VirqRecorder> virqs;  // the level's VIRQs
    std::unique_ptr<Level> level;
    std::unique_ptr<ParentLink> link;     // null for the root
    std::vector<Node*> children;
  };

  // A stack with its root level (L0).
  static absl::StatusOr<std::unique_ptr<Stack>> Create(
      LevelOptions root = {});
  ~Stack();

  Node& root() { return *nodes_.front(); }
  // A child level of `parent`: its domain `domid_in_parent` is created in
  // the parent (sized for its buffers), marked a child level and linked.
  absl::StatusOr<Node*> AddLevel(Node& parent, std::string name,
                                 domid_t domid_in_parent,
                                 ChildLevelOptions options = {});
  // Creates a guest domain at `node`.
  absl::Status AddDomain(Node& node, domid_t domid, uint64_t frames = 512);
  // An in-process guest acting as `domid` at `node` (its port and VIRQ
  // waiter live as long as the stack).
  absl::StatusOr<std::unique_ptr<guest::Guest>> GuestAt(Node& node,
                                                        domid_t domid);
  // Pumps every link (leaves last) until none moves a message; returns how
  // many moved. For inline (threads = false) stacks.
  size_t PumpAll();

 private:
  Stack() = default;

  // Guests' ports and waiters, kept for the stack's life.
  std::vector<std::unique_ptr<InProcessPort>> ports_;
  std::vector<std::unique_ptr<guest::RecorderVirqWaiter>> waiters_;
  // Root first, children after their parent: torn down in reverse.
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace argo::nesting

#endif  // NESTING_STACK_H_
