// The nesting simulator at a terminal (DESIGN §7): builds a tree of levels
// of any depth and fan-out in one process (nesting::Stack), cables every
// leaf level's guest up to a storage guest at L0 — each level cabling only
// its own guests and child levels — sends from every leaf naming only the
// source port, has storage answer each sender by the name it saw, and
// prints the relative names (paths) both ways and each level's counters.
//
//   nesting_sim [--depth D] [--fanout F] [--cpus C] [--messages M]
//
// Exits 1 if any message or reply is lost or damaged.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "argo_core/name_path.h"
#include "argo_core/public/argo_nesting.h"
#include "demo/scene_output.h"
#include "guest/guest.h"
#include "guest/received_path.h"
#include "nesting/stack.h"

namespace argo::demo {
namespace {

using nesting::Stack;

constexpr domid_t kStorage = 1;
constexpr domid_t kLeafGuest = 1;
constexpr xen_argo_port_t kStoragePort = 50;
constexpr xen_argo_port_t kLeafPort = 100;
constexpr xen_argo_port_t kLeafUp = 7;  // the leaf guest's cable: parent:7
constexpr uint32_t kType = 1;

struct Options {
  int depth = 2;
  int fanout = 2;
  uint32_t cpus = 2;
  int messages = 2;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "nesting_sim: %s\nusage: nesting_sim [--depth D (1..8)] "
               "[--fanout F (1..8)] [--cpus C (1..%d)] [--messages M "
               "(1..1000)]\n",
               why.c_str(), ARGO_LEVEL_MAX_CPUS);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") Usage("the nesting simulator");
    if (i + 1 >= argc) Usage(arg + " needs a value");
    int v = 0;
    if (!absl::SimpleAtoi(argv[++i], &v)) Usage(arg + " takes a number");
    if (arg == "--depth" && v >= 1 && v <= 8) {
      o.depth = v;
    } else if (arg == "--fanout" && v >= 1 && v <= 8) {
      o.fanout = v;
    } else if (arg == "--cpus" && v >= 1 && v <= ARGO_LEVEL_MAX_CPUS) {
      o.cpus = static_cast<uint32_t>(v);
    } else if (arg == "--messages" && v >= 1 && v <= 1000) {
      o.messages = v;
    } else {
      Usage(absl::StrCat("bad option or value: ", arg, " ", v));
    }
  }
  return o;
}

std::string Name(const xen_argo_addr_t& a) {
  return absl::StrCat(a.domain_id == ARGO_DOMID_PARENT
                          ? std::string("parent")
                          : absl::StrCat("dom", a.domain_id),
                      ":", a.aport);
}

// "dom10:8 / dom20:7 / dom1:100": the header source, then the path; the
// original payload in *payload.
std::string RelativeName(const ReceivedMessage& m, std::string* payload) {
  std::string name = Name(m.source);
  absl::StatusOr<absl::optional<guest::ReceivedPath>> read =
      guest::ParseReceivedPath(m);
  absl::Span<const uint8_t> bytes = absl::MakeConstSpan(m.payload);
  if (read.ok() && read->has_value()) {
    const NamePath& path = (*read)->path;
    for (int i = 0; i < path.depth; ++i) {
      absl::StrAppend(&name, " / ", Name(path.hops[i]));
    }
    bytes = (*read)->payload;
  } else if (!read.ok()) {
    absl::StrAppend(&name, " (malformed path block)");
  }
  payload->assign(bytes.begin(), bytes.end());
  return name;
}

class Simulation {
 public:
  explicit Simulation(Options o) : o_(o) {}

  void Build() {
    stack_ = Must(Stack::Create());
    Check(stack_->AddDomain(stack_->root(), kStorage));
    storage_ = Must(stack_->GuestAt(stack_->root(), kStorage));
    storage_ring_ = Must(
        storage_->RegisterRing(kStoragePort, XEN_ARGO_DOMID_ANY, 256 * 1024));
    Grow(stack_->root(), 1, "l");
  }

  // Every leaf sends; storage answers each by the address it saw.
  bool Run() {
    for (Leaf& leaf : leaves_) {
      for (int i = 0; i < o_.messages; ++i) {
        const std::string text = absl::StrCat(leaf.name, " message ", i);
        Must(leaf.guest->SendWaitingForSpace(
            kLeafPort, guest::kImplicitDestination,
            absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()),
                                text.size()),
            kType, absl::Seconds(5)));
      }
    }
    const size_t expected = leaves_.size() * o_.messages;
    bool ok = true;
    size_t shown = 0;
    for (size_t n = 0; n < expected; ++n) {
      absl::optional<ReceivedMessage> m = Next(storage_ring_);
      if (!m.has_value()) {
        Say(absl::StrCat("LOST: storage got ", n, " of ", expected));
        return false;
      }
      std::string payload;
      const std::string from = RelativeName(*m, &payload);
      if (shown++ < 6) {
        Say(absl::StrCat("  L0 storage got \"", payload, "\" from ", from));
      }
      const std::string reply = "ack: " + payload;
      // Back to the name it came from: the header source at L0.
      Must(storage_->SendWaitingForSpace(
          kStoragePort, m->source,
          absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(reply.data()),
                              reply.size()),
          kType, absl::Seconds(5)));
    }
    if (expected > 6) Say(absl::StrCat("  … and ", expected - 6, " more"));
    shown = 0;
    for (Leaf& leaf : leaves_) {
      for (int i = 0; i < o_.messages; ++i) {
        absl::optional<ReceivedMessage> m = Next(leaf.ring);
        std::string payload;
        const std::string from =
            m.has_value() ? RelativeName(*m, &payload) : "";
        if (payload.rfind("ack: " + leaf.name + " message ", 0) != 0) {
          Say(absl::StrCat("LOST or damaged: reply ", i, " to ", leaf.name));
          ok = false;
          continue;
        }
        if (shown++ < 3) {
          Say(absl::StrCat("  ", leaf.name, " got \"", payload, "\" from ",
                           from));
        }
      }
    }
    return ok;
  }

  void Report() {
    Say("counters per level (up: forwarded/refused; down: delivered/"
        "blocked/dropped):");
    Walk(stack_->root(), 0);
  }

 private:
  struct Leaf {
    std::string name;
    std::unique_ptr<guest::Guest> guest;
    GuestRing* ring = nullptr;
  };

  // Adds `o_.fanout` child levels under `parent` (at depth `depth`).
  void Grow(Stack::Node& parent, int depth, const std::string& prefix) {
    for (int i = 0; i < o_.fanout; ++i) {
      const std::string name = absl::StrCat(prefix, depth, std::string(1, static_cast<char>('a' + i)));
      const domid_t domid = static_cast<domid_t>(10 + i);
      nesting::ChildLevelOptions options;
      options.cpus = o_.cpus;
      Stack::Node* node =
          Must(stack_->AddLevel(parent, name, domid, options));
      if (depth == o_.depth) {
        AddLeafGuest(*node);
      } else {
        Grow(*node, depth + 1, name + "-");
      }
    }
  }

  // The leaf level's guest cabled up, and the cables above it to storage.
  void AddLeafGuest(Stack::Node& level) {
    Check(stack_->AddDomain(level, kLeafGuest));
    Leaf leaf;
    leaf.name = absl::StrCat(level.name, "/guest");
    leaf.guest = Must(stack_->GuestAt(level, kLeafGuest));
    leaf.ring = Must(
        leaf.guest->RegisterRing(kLeafPort, XEN_ARGO_DOMID_ANY, 64 * 1024));
    Check(level.level->table().Connect({kLeafGuest, kLeafPort},
                                       {ARGO_DOMID_PARENT, kLeafUp}, true));
    CableUp(level, kLeafUp);
    leaves_.push_back(std::move(leaf));
  }

  // `level` sends up from its domain's port `port` in its parent: the
  // parent cables that on, up again with a port of its own, or (L0) to
  // storage one way (storage answers by address).
  void CableUp(Stack::Node& level, xen_argo_port_t port) {
    Stack::Node& parent = *level.parent;
    if (parent.parent == nullptr) {
      Check(parent.level->table().Connect({level.domid_in_parent, port},
                                          {kStorage, kStoragePort}, false));
      return;
    }
    const xen_argo_port_t up = next_up_port_++;
    Check(parent.level->table().Connect({level.domid_in_parent, port},
                                        {ARGO_DOMID_PARENT, up}, true));
    CableUp(parent, up);
  }

  absl::optional<ReceivedMessage> Next(GuestRing* ring) {
    for (int i = 0; i < 5000; ++i) {
      auto m = ring->Read();
      if (!m.ok()) return absl::nullopt;
      if (m->has_value()) return **m;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return absl::nullopt;
  }

  void Walk(Stack::Node& node, int indent) {
    const Hypervisor::NestingStats hv = node.level->hypervisor().nesting_stats();
    std::string line = absl::StrCat(std::string(2 + indent * 2, ' '),
                                    node.name, ": up ", hv.up_forwarded, "/",
                                    hv.up_refused);
    if (node.link != nullptr) {
      const nesting::ParentLink::Stats s = node.link->stats();
      absl::StrAppend(&line, ", down ", s.down_delivered, "/", s.down_blocked,
                      "/",
                      s.dropped_no_cable + s.dropped_refused +
                          s.dropped_malformed + s.dropped_loop,
                      " (", node.link->cpus(), " buffers)");
    }
    Say(line);
    for (Stack::Node* child : node.children) Walk(*child, indent + 1);
  }

  const Options o_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<guest::Guest> storage_;
  GuestRing* storage_ring_ = nullptr;
  std::vector<Leaf> leaves_;
  xen_argo_port_t next_up_port_ = 1000;
};

}  // namespace
}  // namespace argo::demo

int main(int argc, char** argv) {
  using argo::demo::Say;
  const argo::demo::Options o = argo::demo::Parse(argc, argv);
  Say(absl::StrCat("== Nesting simulator: depth ", o.depth, ", fan-out ",
                   o.fanout, ", ", o.cpus, " CPUs per level, ", o.messages,
                   " messages per leaf guest (one process) =="));
  argo::demo::Simulation sim(o);
  sim.Build();
  const bool ok = sim.Run();
  sim.Report();
  Say(ok ? "every message and every reply arrived, with its path"
         : "FAILED: something was lost");
  return ok ? 0 : 1;
}
