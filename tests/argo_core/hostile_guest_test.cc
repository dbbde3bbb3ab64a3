// Hostile guests: while sends run, one thread scribbles garbage over the
// receiver's rx_ptr/tx_ptr and another over the sender's send_addr, iov
// array and payload buffers. No crash, no sanitizer report, every return
// value is a valid hypercall result, no byte outside the ring frames
// changes, and a well-behaved victim's ring sees only intact messages.
//
// Racy by design (the guests really do rewrite memory the hypervisor
// copies from), so it is tagged no_tsan and runs under ASan/UBSan.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/argo_fixture.h"

namespace argo::testing {
namespace {

constexpr uint8_t kCanary = 0xA5;
constexpr int kSends = 60000;

bool IsValidResult(int64_t rc) {
  static const std::set<int64_t> kErrors = {
      -XEN_EINVAL, -XEN_EFAULT, -XEN_EPERM,    -XEN_ESRCH,
      -XEN_EAGAIN, -XEN_EBUSY,  -XEN_EMSGSIZE, -XEN_ECONNREFUSED};
  return (rc >= 0 && rc <= kMaxMessageSize) || kErrors.count(rc) > 0;
}

class HostileGuestTest : public ArgoFixture {};

TEST_F(HostileGuestTest, GarbageRxAndSenderBuffersNeverEscapeTheRing) {
  // A's ring on scattered frames; every other byte of A's memory is canary.
  const std::vector<uint64_t> ring_frames = {300, 17, 512, 99};
  const uint32_t len = 4 * kPageSize - kRingHeaderSize;
  std::vector<uint8_t> canary_page(kPageSize, kCanary);
  for (uint64_t f = 0; f < kFrames; ++f)
    a_->PutBytes(f * kPageSize, canary_page);
  std::vector<uint8_t> zero(kRingHeaderSize, 0);
  a_->PutBytes(ring_frames[0] * kPageSize, zero);
  ASSERT_EQ(a_->Register(10, XEN_ARGO_DOMID_ANY, len, ring_frames), 0);
  // The register call itself used A's scratch area; restore the canary
  // there (the hypervisor only reads it).
  for (uint64_t f : {kStructGpa / kPageSize, kGfnGpa / kPageSize}) {
    a_->PutBytes(f * kPageSize, canary_page);
  }

  // The victim: C owns a well-behaved ring fed by a well-behaved sender.
  AddDomain(4);
  std::unique_ptr<RawGuest> good = Guest(4);
  ASSERT_EQ(c_->Register(20, 4, 8192 - 64, RawGuest::Frames(8192 - 64)), 0);
  RingView victim = c_->View(RawGuest::Frames(8192 - 64), 8192 - 64);

  std::atomic<bool> stop{false};
  xen_argo_ring_t* hostile_header = reinterpret_cast<xen_argo_ring_t*>(
      a_->memory().Translate(ring_frames[0] * kPageSize, kPageSize));

  std::thread rx_scribbler([&] {
    std::mt19937 rng(1);
    while (!stop.load(std::memory_order_relaxed)) {
      std::atomic_ref<uint32_t>(hostile_header->rx_ptr)
          .store(rng(), std::memory_order_relaxed);
      std::atomic_ref<uint32_t>(hostile_header->tx_ptr)
          .store(rng(), std::memory_order_relaxed);
    }
  });
  std::thread buffer_scribbler([&] {
    std::mt19937 rng(2);
    uint8_t junk[256];
    while (!stop.load(std::memory_order_relaxed)) {
      for (uint8_t& b : junk) b = static_cast<uint8_t>(rng());
      uint64_t where = rng() % 3 == 0 ? kStructGpa
                       : rng() % 2    ? kIovGpa
                                      : kDataGpa;
      b_->PutBytes(where + rng() % 64,
                   absl::MakeConstSpan(junk, 1 + rng() % 64));
    }
  });

  std::atomic<int> invalid{0};
  std::thread hostile_sender([&] {
    std::vector<uint8_t> payload = Pattern(5, 3000);
    for (int i = 0; i < kSends; ++i) {
      int64_t rc =
          b_->Send(7, kA, 10, absl::MakeConstSpan(payload).first(i % 3000), i,
                   1 + i % 8);
      if (!IsValidResult(rc)) ++invalid;
      if (i % 64 == 0) a_->NotifyNull();
    }
  });

  // Meanwhile the victim's traffic must arrive intact and in order.
  int64_t last = -1;
  auto check_victim_message = [&](const ReceivedMessage& msg) {
    uint32_t seq = msg.message_type;
    EXPECT_EQ(static_cast<int64_t>(seq), last + 1);
    EXPECT_EQ(msg.payload, Pattern(seq, 1 + seq % 700));
    last = seq;
  };
  for (uint32_t i = 0; i < 20000; ++i) {
    std::vector<uint8_t> payload = Pattern(i, 1 + i % 700);
    int64_t rc;
    while ((rc = good->Send(1, kC, 20, payload, i)) == -XEN_EAGAIN) {
      auto msg = victim.reader->Read();
      ASSERT_TRUE(msg.ok() && msg->has_value());
      check_victim_message(**msg);
    }
    ASSERT_EQ(rc, static_cast<int64_t>(payload.size()));
  }
  hostile_sender.join();
  stop = true;
  rx_scribbler.join();
  buffer_scribbler.join();
  EXPECT_EQ(invalid.load(), 0);

  // Drain the victim: every message arrived, in order, intact.
  for (;;) {
    auto msg = victim.reader->Read();
    ASSERT_TRUE(msg.ok());
    if (!msg->has_value()) break;
    check_victim_message(**msg);
  }
  EXPECT_EQ(last, 19999);

  // Not one byte of A's memory outside the ring frames changed.
  std::set<uint64_t> ring_set(ring_frames.begin(), ring_frames.end());
  uint64_t changed = 0;
  for (uint64_t f = 0; f < kFrames; ++f) {
    if (ring_set.count(f)) continue;
    const uint8_t* page = a_->memory().Translate(f * kPageSize, kPageSize);
    for (uint32_t i = 0; i < kPageSize; ++i) changed += page[i] != kCanary;
  }
  EXPECT_EQ(changed, 0u);
  // The ring header's reserved bytes are the guest's; the hypervisor only
  // ever writes tx_ptr there.
  for (uint32_t i = 8; i < kRingHeaderSize; ++i) {
    EXPECT_EQ(reinterpret_cast<uint8_t*>(hostile_header)[i], 0) << i;
  }
}

TEST_F(HostileGuestTest, SendingFromInsideTheDestinationRingIsSafe) {
  // A guest sends to its own ring from bytes inside that ring: with the
  // ring written through the guest's own mapping (consecutive frames), the
  // copy's source and destination overlap. Found by the hypercall fuzzer
  // (ASan: memcpy-param-overlap). The copy is a memmove: the payload is
  // the source as it stood once the message header was written (the
  // header overwrote its first 8 bytes), never torn bytes.
  constexpr uint32_t kLen = 4096;
  const std::vector<uint64_t> gfns = RawGuest::Frames(kLen);
  ASSERT_EQ(a_->Register(5, XEN_ARGO_DOMID_ANY, kLen, gfns), 0);
  const uint64_t ring_data = gfns[0] * kPageSize + kRingHeaderSize;
  // Source: ring bytes 8..63, overlapping where the message will land
  // (header at 0, payload at 16).
  std::vector<uint8_t> pattern = Pattern(9, 56);
  a_->PutBytes(ring_data + 8, pattern);
  xen_argo_iov_t iov = {};
  iov.iov_hnd.p = reinterpret_cast<uint8_t*>(ring_data + 8);
  iov.iov_len = 56;
  a_->Put(kStructGpa, xen_argo_send_addr_t{{1, kA, 0}, {5, kA, 0}});
  a_->Put(kIovGpa, iov);
  ASSERT_EQ(a_->Op(XEN_ARGO_OP_sendv, kStructGpa, kIovGpa, 1, 0), 56);
  RingView view = a_->View(gfns, kLen);
  std::vector<uint8_t> expected(8);
  std::memcpy(expected.data(), view.window.data() + kRingHeaderSize + 8, 8);
  expected.insert(expected.end(), pattern.begin() + 8, pattern.end());
  auto message = view.reader->Read();
  ASSERT_TRUE(message.ok() && message->has_value());
  EXPECT_EQ((*message)->payload, expected);
}

TEST_F(HostileGuestTest, RegisterUnregisterLoopsDoNotLeak) {
  for (int i = 0; i < 20000; ++i) {
    ASSERT_EQ(a_->Register(i % 7, kB, 4096,
                           RawGuest::Frames(4096, 0x100 + (i % 5) * 2)),
              0);
    if (i % 3 == 0) ASSERT_EQ(a_->Unregister(i % 7, kB), 0);
  }
  auto info = hv_->GetDomainInfo(kA);
  ASSERT_TRUE(info.ok());
  EXPECT_LE(info->ring_count, 7u);
  EXPECT_EQ(info->window_segments, 0u) << "consecutive frames: no mapping";
  EXPECT_EQ(hv_->GetDomainInfo(kB)->partner_records, info->ring_count);
}

TEST_F(HostileGuestTest, ScatteredFramesAreBoundedPerDomain) {
  // Each frame of a 16 MiB ring scattered costs one mapping (4096 per
  // ring) if windowed. The domain's budget holds none of those whole, so
  // they are served page by page; a ring of consecutive frames needs no
  // mapping at all. Nothing is refused.
  constexpr domid_t kBigDomain = 5;
  AddDomain(kBigDomain, /*argo=*/true, /*frames=*/32768);
  std::unique_ptr<RawGuest> big = Guest(kBigDomain);
  constexpr uint32_t kBig = kMaxRingSize - 64;
  std::vector<uint64_t> scattered(4096);
  for (uint64_t i = 0; i < 4096; ++i) scattered[i] = 0x100 + 2 * i;
  ASSERT_EQ(big->Register(1, kB, kBig, scattered), 0);
  for (uint64_t i = 0; i < 4096; ++i) scattered[i] = 0x101 + 2 * i;
  ASSERT_EQ(big->Register(2, kB, kBig, scattered), 0);
  for (uint64_t i = 0; i < 4096; ++i) scattered[i] = 32767 - i;
  EXPECT_EQ(big->Register(3, kB, kBig, scattered), 0);
  for (uint64_t i = 0; i < 4096; ++i) scattered[i] = 20000 + i;
  EXPECT_EQ(big->Register(4, kB, kBig, scattered), 0);
  auto info = hv_->GetDomainInfo(kBigDomain);
  EXPECT_EQ(info->ring_count, 4u);
  EXPECT_LE(info->window_segments, kMaxWindowSegmentsPerDomain);
  // Small scattered rings still get windows from what is left.
  std::vector<uint64_t> small = {9000, 9002};
  ASSERT_EQ(big->Register(5, kB, 4096, small), 0);
  EXPECT_EQ(hv_->GetDomainInfo(kBigDomain)->window_segments, 2u);
}

}  // namespace
}  // namespace argo::testing
