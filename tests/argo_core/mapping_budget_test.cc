// Ring memory never exhausts the process's kernel mappings
// (vm.max_map_count): contiguous rings need no mapping, scattered rings
// take windows from a per-domain and a per-level budget, and past either a
// ring is served page by page instead of being refused. Before this, eight
// greedy domains reached the kernel's limit and every later register_ring
// and domain creation failed.
#include <fstream>
#include <string>
#include <vector>

#include "argo_core/argo_limits.h"
#include "argo_core/hypervisor.h"
#include "argo_core/ring_reader.h"
#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"
#include "tests/testing/raw_guest.h"

namespace argo::testing {
namespace {

constexpr uint32_t kRingPages = 16;
// The longest ring on 16 pages.
constexpr uint32_t kRingLen = kRingPages * kPageSize - kRingHeaderSize;
static_assert(NpagesRing(kRingLen) == kRingPages);

// Every other frame from `first`: one mapping per frame if windowed.
std::vector<uint64_t> Scattered(uint64_t first) {
  std::vector<uint64_t> gfns;
  for (uint64_t i = 0; i < kRingPages; ++i) gfns.push_back(first + 2 * i);
  return gfns;
}

uint64_t MappingsOfThisProcess() {
  std::ifstream maps("/proc/self/maps");
  uint64_t n = 0;
  for (std::string line; std::getline(maps, line);) ++n;
  return n;
}

uint64_t MaxMapCount() {
  std::ifstream f("/proc/sys/vm/max_map_count");
  uint64_t n = 65530;
  f >> n;
  return n;
}

// Sends `count` messages of varied sizes from `sender` to `owner`:port and
// reads each back through the owner's own view of the ring.
void ExpectDeliveredIntact(const RawGuest& sender, const RawGuest& owner,
                           xen_argo_port_t port,
                           const std::vector<uint64_t>& gfns, int count) {
  RingView view = owner.View(gfns, kRingLen);
  for (int i = 0; i < count; ++i) {
    const uint32_t size = 1 + (i * 977) % 9000;  // crosses pages, wraps
    const std::vector<uint8_t> payload = Pattern(i, size);
    ASSERT_EQ(sender.Send(3, owner.domid(), port, payload, 0, 1 + i % 3),
              static_cast<int64_t>(size))
        << i;
    auto message = view.reader->Read();
    ASSERT_TRUE(message.ok()) << message.status();
    ASSERT_TRUE(message->has_value()) << i;
    ASSERT_EQ((*message)->payload, payload) << i;
  }
}

TEST(MappingBudgetTest, ContiguousRingNeedsNoMapping) {
  VirqRecorder virqs;
  Hypervisor hv(HypervisorOptions{}, &virqs);
  ASSERT_TRUE(hv.CreateDomain(1, DomainConfig{4096, true}).ok());
  ASSERT_TRUE(hv.CreateDomain(2, DomainConfig{4096, true}).ok());
  RawGuest owner(&hv, 1), sender(&hv, 2);
  const std::vector<uint64_t> gfns = RawGuest::Frames(kRingLen);
  ASSERT_EQ(owner.Register(9, XEN_ARGO_DOMID_ANY, kRingLen, gfns), 0);
  EXPECT_EQ(hv.GetDomainInfo(1)->window_segments, 0u);
  EXPECT_EQ(hv.window_segments(), 0u);
  ExpectDeliveredIntact(sender, owner, 9, gfns, 200);
}

TEST(MappingBudgetTest, SpentBudgetServesRingsPageByPage) {
  // No window at all: every scattered ring is copied page by page, with
  // the same bytes, wrap-around and limits as a windowed one.
  VirqRecorder virqs;
  HypervisorOptions options;
  options.max_window_segments = 0;
  Hypervisor hv(options, &virqs);
  ASSERT_TRUE(hv.CreateDomain(1, DomainConfig{4096, true}).ok());
  ASSERT_TRUE(hv.CreateDomain(2, DomainConfig{4096, true}).ok());
  RawGuest owner(&hv, 1), sender(&hv, 2);
  const std::vector<uint64_t> gfns = Scattered(kFirstRingFrame);
  ASSERT_EQ(owner.Register(9, XEN_ARGO_DOMID_ANY, kRingLen, gfns), 0);
  EXPECT_EQ(hv.window_segments(), 0u);
  ExpectDeliveredIntact(sender, owner, 9, gfns, 300);
}

TEST(MappingBudgetTest, GreedyDomainsCannotExhaustTheProcessMappings) {
  // 32 domains each registering 128 rings of 16 scattered frames ask for
  // 32 * 128 * 16 = 65536 mappings: past Linux's default max_map_count.
  constexpr domid_t kGreedy = 32;
  constexpr uint64_t kFramesPerDomain = 128 * 2 * kRingPages + 0x200;
  VirqRecorder virqs;
  Hypervisor hv(HypervisorOptions{}, &virqs);
  const uint64_t before = MappingsOfThisProcess();
  for (domid_t d = 1; d <= kGreedy; ++d) {
    ASSERT_TRUE(hv.CreateDomain(d, DomainConfig{kFramesPerDomain, true}).ok());
    RawGuest greedy(&hv, d);
    for (xen_argo_port_t port = 0; port < kMaxRingsPerDomain; ++port) {
      ASSERT_EQ(greedy.Register(port, XEN_ARGO_DOMID_ANY, kRingLen,
                                Scattered(kFirstRingFrame + port * 2 *
                                                                kRingPages)),
                0)
          << "domain " << d << " port " << port;
    }
    EXPECT_LE(hv.GetDomainInfo(d)->window_segments,
              kMaxWindowSegmentsPerDomain);
  }
  EXPECT_LE(hv.window_segments(), HypervisorOptions{}.max_window_segments);
  EXPECT_LT(MappingsOfThisProcess() - before, MaxMapCount() / 2)
      << "the rings' windows took most of the process's mappings";

  // The level still creates domains and serves them, windowed or not.
  constexpr domid_t kLate = 100, kSender = 101;
  ASSERT_TRUE(hv.CreateDomain(kLate, DomainConfig{4096, true}).ok());
  ASSERT_TRUE(hv.CreateDomain(kSender, DomainConfig{4096, true}).ok());
  RawGuest late(&hv, kLate), sender(&hv, kSender);
  const std::vector<uint64_t> gfns = Scattered(kFirstRingFrame);
  ASSERT_EQ(late.Register(1, XEN_ARGO_DOMID_ANY, kRingLen, gfns), 0);
  ExpectDeliveredIntact(sender, late, 1, gfns, 50);
  // And a greedy domain's last (page-by-page) ring works too.
  RawGuest last_greedy(&hv, kGreedy);
  ExpectDeliveredIntact(
      sender, last_greedy, kMaxRingsPerDomain - 1,
      Scattered(kFirstRingFrame + (kMaxRingsPerDomain - 1) * 2 * kRingPages),
      50);

  // Teardown gives every mapping back.
  for (domid_t d = 1; d <= kGreedy; ++d) ASSERT_TRUE(hv.DestroyDomain(d).ok());
  ASSERT_TRUE(hv.DestroyDomain(kLate).ok());
  EXPECT_EQ(hv.window_segments(), 0u);
}

}  // namespace
}  // namespace argo::testing
