#include "nesting/stack.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace argo::nesting {
namespace {

// Frames a level's domain needs in its parent: the buffers (ring header
// page each), the guest library's scratch and send buffer, and slack.
uint64_t LevelFrames(uint32_t cpus, uint32_t buffer_bytes) {
  const uint64_t per_buffer = (buffer_bytes + 4095) / 4096 + 1;
  return cpus * per_buffer + ArgoGuest::kScratchFrames + 64;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Stack>> Stack::Create(LevelOptions root) {
  std::unique_ptr<Stack> stack(new Stack());
  auto node = std::make_unique<Node>();
  node->name = "l0";
  node->virqs = std::make_unique<VirqRecorder>();
  root.notifier = node->virqs.get();
  absl::StatusOr<std::unique_ptr<Level>> level = Level::Create(std::move(root));
  if (!level.ok()) return level.status();
  node->level = *std::move(level);
  stack->nodes_.push_back(std::move(node));
  return stack;
}

Stack::~Stack() {
  // Leaves first: a child's link is a guest of its parent's level.
  while (!nodes_.empty()) nodes_.pop_back();
}

absl::StatusOr<Stack::Node*> Stack::AddLevel(Node& parent, std::string name,
                                             domid_t domid_in_parent,
                                             ChildLevelOptions options) {
  Hypervisor& parent_hv = parent.level->hypervisor();
  const uint64_t frames = LevelFrames(options.cpus, options.buffer_bytes);
  if (absl::Status s = parent.level->CreateDomain(
          domid_in_parent, DomainConfig{frames, true});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = parent_hv.SetChildLevel(domid_in_parent, options.cpus);
      !s.ok()) {
    return s;
  }
  auto node = std::make_unique<Node>();
  node->name = std::move(name);
  node->parent = &parent;
  node->domid_in_parent = domid_in_parent;
  node->virqs = std::make_unique<VirqRecorder>();
  options.level.notifier = node->virqs.get();
  absl::StatusOr<std::unique_ptr<Level>> level =
      Level::Create(std::move(options.level));
  if (!level.ok()) return level.status();
  node->level = *std::move(level);
  absl::StatusOr<std::unique_ptr<guest::Guest>> uplink =
      GuestAt(parent, domid_in_parent);
  if (!uplink.ok()) return uplink.status();
  ParentLinkOptions link_options;
  link_options.cpus = options.cpus;
  link_options.buffer_bytes = options.buffer_bytes;
  link_options.threads = options.threads;
  absl::StatusOr<std::unique_ptr<ParentLink>> link = ParentLink::Start(
      node->level.get(), *std::move(uplink), link_options);
  if (!link.ok()) return link.status();
  node->link = *std::move(link);
  Node* raw = node.get();
  parent.children.push_back(raw);
  nodes_.push_back(std::move(node));
  return raw;
}

absl::Status Stack::AddDomain(Node& node, domid_t domid, uint64_t frames) {
  return node.level->CreateDomain(domid, DomainConfig{frames, true});
}

absl::StatusOr<std::unique_ptr<guest::Guest>> Stack::GuestAt(Node& node,
                                                             domid_t domid) {
  Hypervisor& hv = node.level->hypervisor();
  std::shared_ptr<GuestMemory> memory = hv.DomainMemory(domid);
  if (memory == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no domain ", domid, " at level ", node.name));
  }
  ports_.push_back(std::make_unique<InProcessPort>(&hv, domid));
  waiters_.push_back(
      std::make_unique<guest::RecorderVirqWaiter>(node.virqs.get(), domid));
  GuestOptions options;
  // A forwarded message carries its path block beside the payload.
  options.send_buffer_bytes = 64 * 1024 + ARGO_PATH_MAX_BYTES;
  return guest::Guest::Create(ports_.back().get(), std::move(memory), domid,
                              waiters_.back().get(), options);
}

size_t Stack::PumpAll() {
  size_t total = 0;
  for (;;) {
    size_t moved = 0;
    for (auto& node : nodes_) {
      if (node->link != nullptr) moved += node->link->Pump();
    }
    if (moved == 0) return total;
    total += moved;
  }
}

}  // namespace argo::nesting
