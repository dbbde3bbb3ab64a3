// Per-flow order across a level's per-CPU receive buffers (DESIGN §7):
// with four buffers drained by four threads and several L0 senders busy at
// once, every flow's messages reach its L1 guest in order, none lost, none
// duplicated, none altered — and the flows really were spread over more
// than one buffer.
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "argo_core/hypervisor.h"
#include "argo_core/xen_status.h"
#include "gtest/gtest.h"
#include "tests/nesting/nesting_world.h"

namespace argo::testing {
namespace {

using W = NestingWorld;
constexpr uint32_t kType = 9;
constexpr int kFlows = 6;
constexpr uint32_t kPerFlow = 400;
constexpr domid_t kFirstSender = 30;    // at L0: 30..35
constexpr domid_t kFirstReceiver = 40;  // at l1a: 40..45
constexpr xen_argo_port_t kSenderPort = 50;
constexpr xen_argo_port_t kFirstL1Port = 200;  // l1a's domain's ports at L0
constexpr xen_argo_port_t kRingPort = 300;

// flow, sequence number, a length that varies with both, bytes derived
// from all three, and a checksum of the bytes over the whole payload.
std::vector<uint8_t> Numbered(uint32_t flow, uint32_t seq) {
  const uint32_t fill = 8 + (flow * 31 + seq * 7) % 200;
  std::vector<uint8_t> m(12 + fill);
  std::memcpy(m.data(), &flow, 4);
  std::memcpy(m.data() + 4, &seq, 4);
  uint32_t sum = flow * 0x9e3779b9u ^ seq;
  for (uint32_t i = 0; i < fill; ++i) {
    m[12 + i] = static_cast<uint8_t>(flow * 13 + seq * 5 + i);
    sum = sum * 31 + m[12 + i];
  }
  std::memcpy(m.data() + 8, &sum, 4);
  return m;
}

TEST(PerCpuOrderTest, EachFlowInOrderWithFourBusyBuffers) {
  NestingWorld world;
  nesting::ChildLevelOptions options;
  options.cpus = 4;
  options.threads = true;
  options.buffer_bytes = 16 * 1024;  // small: buffers fill, senders wait
  ASSERT_TRUE(world.Build(options).ok());
  nesting::Stack& stack = world.stack();

  std::vector<std::unique_ptr<guest::Guest>> senders;
  std::vector<W::Endpoint> receivers;
  std::set<uint32_t> buffers;  // where the parent's flow hash puts each
  for (int i = 0; i < kFlows; ++i) {
    const domid_t from = kFirstSender + i;
    const domid_t to = kFirstReceiver + i;
    const xen_argo_port_t port = kFirstL1Port + i;
    ASSERT_TRUE(stack.AddDomain(world.l0(), from).ok());
    ASSERT_TRUE(stack.AddDomain(world.l1(), to).ok());
    W::Cable(world.l0(), {from, kSenderPort}, {W::kL1, port});
    W::Cable(world.l1(), {ARGO_DOMID_PARENT, port}, {to, kRingPort});
    auto g = stack.GuestAt(world.l0(), from);
    ASSERT_TRUE(g.ok());
    senders.push_back(*std::move(g));
    receivers.push_back(world.Listen(world.l1(), to, kRingPort, 8 * 1024));
    ASSERT_NE(receivers.back().ring, nullptr);
    const xen_argo_addr_t source{kSenderPort, from, 0};
    buffers.insert(Hypervisor::FlowBuffer(source, port, source, 4));
  }
  // The flows as chosen do spread (otherwise this test would not test
  // the buffers' independence).
  ASSERT_GT(buffers.size(), 1u);

  std::vector<absl::Status> send_status(kFlows);
  std::vector<std::thread> threads;
  for (int i = 0; i < kFlows; ++i) {
    threads.emplace_back([&, i] {
      for (uint32_t seq = 0; seq < kPerFlow; ++seq) {
        auto sent = senders[i]->SendWaitingForSpace(
            kSenderPort, guest::kImplicitDestination, Numbered(i, seq), kType,
            absl::Seconds(20));
        if (!sent.ok()) {
          send_status[i] = sent.status();
          return;
        }
      }
    });
  }
  // Receivers: each checks its flow, and tells the level it made room.
  struct Seen {
    uint32_t next = 0;
    uint32_t out_of_order = 0, corrupt = 0, foreign = 0;
  };
  std::vector<Seen> seen(kFlows);
  for (int i = 0; i < kFlows; ++i) {
    threads.emplace_back([&, i] {
      Seen& s = seen[i];
      const absl::Time deadline = absl::Now() + absl::Seconds(30);
      while (s.next < kPerFlow && absl::Now() < deadline) {
        auto m = receivers[i].ring->Read();
        if (!m.ok() || !m->has_value()) {
          receivers[i].guest->WaitVirq(absl::Milliseconds(5)).IgnoreError();
          continue;
        }
        receivers[i].guest->NotifyNull().IgnoreError();
        auto parsed = Parse(**m);
        uint32_t flow = 0, seq = 0;
        if (!parsed.has_value() || parsed->payload.size() < 12) {
          ++s.corrupt;
          continue;
        }
        std::memcpy(&flow, parsed->payload.data(), 4);
        std::memcpy(&seq, parsed->payload.data() + 4, 4);
        if (flow != static_cast<uint32_t>(i)) {
          ++s.foreign;
          continue;
        }
        const std::vector<uint8_t> want = Numbered(flow, seq);
        if (std::string(want.begin(), want.end()) != parsed->payload) {
          ++s.corrupt;
        }
        if (seq != s.next) ++s.out_of_order;
        s.next = seq + 1;
      }
    });
  }
  for (auto& t : threads) t.join();

  for (int i = 0; i < kFlows; ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(send_status[i].ok()) << send_status[i];
    EXPECT_EQ(seen[i].next, kPerFlow);
    EXPECT_EQ(seen[i].out_of_order, 0u);
    EXPECT_EQ(seen[i].corrupt, 0u);
    EXPECT_EQ(seen[i].foreign, 0u);
    // Nothing after the last: no duplicates trailing.
    auto extra = receivers[i].ring->Read();
    ASSERT_TRUE(extra.ok());
    EXPECT_FALSE(extra->has_value());
  }
  // A drainer counts a delivery just after the guest could read it.
  for (int i = 0; i < 5000 && world.l1().link->stats().down_delivered <
                                  uint64_t{kFlows} * kPerFlow;
       ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const nesting::ParentLink::Stats st = world.l1().link->stats();
  EXPECT_EQ(st.down_delivered, uint64_t{kFlows} * kPerFlow);
  EXPECT_EQ(st.dropped_no_cable + st.dropped_refused + st.dropped_malformed +
                st.dropped_loop,
            0u);
  // The parent counted each message once, and the buffers' own counters
  // say more than one of them carried the load, each exactly its flows'.
  EXPECT_EQ(world.l0().level->hypervisor().nesting_stats().down_wrapped,
            uint64_t{kFlows} * kPerFlow);
  std::set<uint32_t> used;
  uint64_t through_buffers = 0;
  for (const RingSnapshot& r : world.l0().level->hypervisor().ListRings()) {
    if (r.owner != W::kL1 || r.id.aport < ARGO_LEVEL_RX_PORT_BASE) continue;
    if (r.counters.messages_in != 0) {
      used.insert(r.id.aport - ARGO_LEVEL_RX_PORT_BASE);
    }
    through_buffers += r.counters.messages_in;
  }
  EXPECT_EQ(used, buffers);
  EXPECT_EQ(through_buffers, uint64_t{kFlows} * kPerFlow);
}

}  // namespace
}  // namespace argo::testing
