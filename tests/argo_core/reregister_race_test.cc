// Re-registration racing sendv into the same ring (issue 8, C.2). The
// receiver moves its ring back and forth between two sets of frames
// (register_ring with the same id and len, new frames, flags 0) while a
// sender keeps filling it; every send that reported delivery must be read
// back intact, in order, exactly once.
//
// After a re-registration the ring's bytes live in the new frames, and the
// hypervisor keeps its tx. A guest moving its ring therefore copies what it
// has not read yet: before the call, [rx, tx) as published then; after the
// call, whatever the hypervisor wrote to the old frames meanwhile (up to
// the old header's final tx, which no write follows once the call
// returns). The hypervisor writes only past that tx in the new frames, so
// the two never overlap. The test waits for a delivery between the two
// copies, so most moves race a send for sure.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "argo_core/hypervisor.h"
#include "argo_core/public/argo.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/ring_info.h"
#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"
#include "tests/testing/race_support.h"
#include "tests/testing/raw_guest.h"

namespace argo::testing {
namespace {

constexpr domid_t kSender = 1, kReceiver = 2;
constexpr xen_argo_port_t kSrcPort = 7, kRingPort = 60;
constexpr uint32_t kLen = 16 * 1024;
// Sized for a few seconds under TSan on 2 shared cores.
constexpr int kMoves = 800;
// How long a move waits for a send to land between its two copies.
constexpr int kMaxYieldsForASend = 20000;

// Copies ring data bytes [from, to) (offsets, wrapping at kLen) from one
// view of the ring to another.
void CopyRingBytes(const RingView& from_view, const RingView& to_view,
                   uint32_t from, uint32_t to) {
  const uint8_t* src = from_view.header()->ring;
  uint8_t* dst = to_view.header()->ring;
  while (from != to) {
    const uint32_t end = to > from ? to : kLen;
    std::copy(src + from, src + end, dst + from);
    from = end == kLen ? 0 : end;
  }
}

uint32_t LoadTx(const RingView& view) {
  return std::atomic_ref<uint32_t>(view.header()->tx_ptr)
      .load(std::memory_order_acquire);
}

uint32_t LoadRx(const RingView& view) {
  return std::atomic_ref<uint32_t>(view.header()->rx_ptr)
      .load(std::memory_order_relaxed);
}

TEST(ReregisterRaceTest, MovingTheRingUnderSendvLosesAndTearsNothing) {
  VirqRecorder virqs;
  Hypervisor hv(HypervisorOptions{}, &virqs);
  ASSERT_TRUE(hv.CreateDomain(kSender, DomainConfig{256, true}).ok());
  ASSERT_TRUE(hv.CreateDomain(kReceiver, DomainConfig{1024, true}).ok());
  RawGuest s(&hv, kSender), r(&hv, kReceiver);
  // Two homes for the ring: consecutive frames, and frames in reverse
  // order (a window of one mapping per frame).
  std::vector<uint64_t> homes[2] = {
      RawGuest::Frames(kLen), RawGuest::Frames(kLen, kFirstRingFrame + 16)};
  std::reverse(homes[1].begin(), homes[1].end());
  ASSERT_EQ(r.Register(kRingPort, kSender, kLen, homes[0]), 0);
  RingView view = r.View(homes[0], kLen);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> delivered_count{0};
  std::vector<bool> delivered;
  StoppingThread sender(&stop, [&] {
    for (uint32_t seq = 0; !stop.load(); ++seq) {
      const int64_t rc =
          s.Send(kSrcPort, kReceiver, kRingPort, SeqPayload(seq), seq);
      // The ring always exists: delivered, or full (the receiver is busy
      // moving it).
      ASSERT_TRUE(rc == SeqPayloadSize(seq) || rc == -XEN_EAGAIN)
          << "sendv " << seq << " returned " << rc;
      delivered.push_back(rc > 0);
      if (rc > 0) delivered_count.fetch_add(1);
      // Leave the receiver the core now and then: the moves are the point.
      std::this_thread::yield();
    }
  });

  std::vector<ReceivedMessage> received;
  int raced_moves = 0;
  for (int move = 0; move < kMoves; ++move) {
    ASSERT_TRUE(Drain(*view.reader, &received));
    const std::vector<uint64_t>& next_frames = homes[(move + 1) % 2];
    RingView next = r.View(next_frames, kLen);
    // Before the call: the header and the unread bytes as of tx1.
    const uint32_t rx = LoadRx(view);
    const uint32_t tx1 = LoadTx(view);
    std::atomic_ref<uint32_t>(next.header()->rx_ptr)
        .store(rx, std::memory_order_release);
    std::atomic_ref<uint32_t>(next.header()->tx_ptr)
        .store(tx1, std::memory_order_relaxed);
    CopyRingBytes(view, next, rx, tx1);
    const uint64_t before = delivered_count.load();
    for (int i = 0; i < kMaxYieldsForASend && delivered_count.load() == before;
         ++i) {
      std::this_thread::yield();
    }
    ASSERT_EQ(r.Register(kRingPort, kSender, kLen, next_frames, 0), 0);
    // After it: what landed in the old frames meanwhile. The old header's
    // tx is final now (the swap and every insert hold the ring's L3).
    const uint32_t tx2 = LoadTx(view);
    CopyRingBytes(view, next, tx1, tx2);
    raced_moves += tx2 != tx1;
    view = std::move(next);
  }
  sender.Join();
  ASSERT_TRUE(Drain(*view.reader, &received));

  // In order, intact, exactly the delivered ones.
  int64_t last = -1;
  std::vector<bool> found(delivered.size(), false);
  for (const ReceivedMessage& m : received) {
    absl::optional<uint32_t> seq = SeqOf(m.payload);
    ASSERT_TRUE(seq.has_value()) << "a torn message after #" << last;
    ASSERT_LT(*seq, delivered.size());
    EXPECT_GT(static_cast<int64_t>(*seq), last) << "reordered or duplicated";
    last = *seq;
    EXPECT_EQ(m.message_type, *seq);
    EXPECT_EQ(m.source.domain_id, kSender);
    EXPECT_TRUE(delivered[*seq]) << "message " << *seq << " was refused";
    found[*seq] = true;
  }
  uint64_t lost = 0;
  for (size_t seq = 0; seq < delivered.size(); ++seq) {
    lost += delivered[seq] && !found[seq];
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(received.size(), delivered_count.load());
  absl::optional<RingSnapshot> ring =
      hv.LookupRing(kReceiver, kRingPort, kSender);
  ASSERT_TRUE(ring.has_value());
  EXPECT_EQ(ring->counters.messages_in, delivered_count.load())
      << "re-registration keeps the ring's counters";
  EXPECT_GT(raced_moves, 0) << "no move overlapped a send";
  RecordProperty("delivered", static_cast<int>(delivered_count.load()));
  RecordProperty("raced_moves", raced_moves);
}

}  // namespace
}  // namespace argo::testing
