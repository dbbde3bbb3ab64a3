// Cable churn under concurrent implicit sends: the toolstack re-cables a
// sender's port between two receivers (and nowhere) in a loop while the
// sender sends. Every message must land at a destination that was cabled
// at some point during its send, or fail cleanly (ECONNREFUSED); none is
// lost, duplicated or misdelivered.
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/implicit_world.h"

namespace argo::testing {
namespace {

constexpr domid_t kSender = 1, kR1 = 2, kR2 = 3;
constexpr xen_argo_port_t kPort = 7, kRingPort = 80;
constexpr uint32_t kLen = 64 * 1024;
constexpr int kChanges = 20000;

// Message payload: which send it was and the table versions around it.
struct Stamp {
  uint32_t sequence;
  uint32_t version_before;  // table changes completed before the send
};

TEST(CableChurnTest, EveryMessageLandsWhereItWasCabledDuringItsSend) {
  ImplicitWorld world;
  for (domid_t d : {kSender, kR1, kR2}) world.AddDomain(d);
  RawGuest sender(world.hv.get(), kSender);
  std::vector<uint64_t> frames = RawGuest::Frames(kLen);
  for (domid_t r : {kR1, kR2}) {
    RawGuest g(world.hv.get(), r);
    ASSERT_EQ(g.Register(kRingPort, kSender, kLen, frames), 0);
  }

  // target_at[k]: where the port led after change k (0 = nowhere).
  std::vector<domid_t> target_at(kChanges + 1, 0);
  std::atomic<uint32_t> version{0};
  std::atomic<uint32_t> sends_done{0};
  std::atomic<bool> stop{false};
  std::thread toolstack([&] {
    for (int k = 1; k <= kChanges; ++k) {
      // Interleave for sure: a change is far quicker than a send loop turn.
      while (sends_done.load(std::memory_order_acquire) < 2u * k) {
        std::this_thread::yield();
      }
      const domid_t target = k % 3 == 0 ? 0 : (k % 3 == 1 ? kR1 : kR2);
      (void)world.table.Disconnect({kSender, kPort}, false);
      if (target != 0) {
        ASSERT_TRUE(
            world.table.Connect({kSender, kPort}, {target, kRingPort}, false)
                .ok());
      }
      target_at[k] = target;  // written before the version is published
      version.store(k, std::memory_order_release);
    }
    stop = true;
  });

  // The receivers' rings are drained as the test goes (they would fill);
  // what arrived is checked once the whole cable history is known.
  std::vector<RingView> views;
  for (domid_t r : {kR1, kR2}) {
    views.push_back(RawGuest(world.hv.get(), r).View(frames, kLen));
  }
  std::vector<std::vector<Stamp>> arrived(2);
  auto drain = [&] {
    for (int i = 0; i < 2; ++i) {
      for (;;) {
        auto msg = views[i].reader->Read();
        ASSERT_TRUE(msg.ok());
        if (!msg->has_value()) break;
        Stamp stamp;
        ASSERT_EQ((*msg)->payload.size(), sizeof(stamp));
        std::memcpy(&stamp, (*msg)->payload.data(), sizeof(stamp));
        arrived[i].push_back(stamp);
      }
    }
  };

  // Sender: stamp, send, and remember the versions each send spanned.
  struct Sent {
    uint32_t before, after;
  };
  std::vector<Sent> sent;
  uint32_t refused = 0;
  for (uint32_t seq = 0; !stop.load(); ++seq) {
    // Nor may the sender run ahead: on a shared core the toolstack would
    // otherwise make every change in one burst after the last send.
    while (seq > 2 * version.load(std::memory_order_acquire) + 16 &&
           !stop.load()) {
      std::this_thread::yield();
    }
    Stamp stamp{seq, version.load(std::memory_order_acquire)};
    std::vector<uint8_t> bytes(sizeof(stamp));
    std::memcpy(bytes.data(), &stamp, sizeof(stamp));
    int64_t rc = ImplicitWorld::SendImplicit(sender, kPort, bytes);
    sent.push_back(
        {stamp.version_before, version.load(std::memory_order_acquire)});
    if (rc == -XEN_ECONNREFUSED) {
      ++refused;
    } else {
      ASSERT_EQ(rc, static_cast<int64_t>(sizeof(stamp))) << "seq " << seq;
    }
    if (seq % 256 == 0) drain();
    sends_done.store(seq + 1, std::memory_order_release);
  }
  toolstack.join();
  drain();

  // Each message: in order at its receiver, and at a destination that was
  // current for some version in [before, after + 1] (a change in progress
  // when `after` was read may already be in the table).
  uint64_t delivered = 0;
  const domid_t receivers[] = {kR1, kR2};
  for (int i = 0; i < 2; ++i) {
    int64_t last = -1;
    for (const Stamp& stamp : arrived[i]) {
      ASSERT_LT(stamp.sequence, sent.size());
      EXPECT_GT(static_cast<int64_t>(stamp.sequence), last)
          << "reordered or duplicated";
      last = stamp.sequence;
      const Sent& s = sent[stamp.sequence];
      bool cabled_during_send = false;
      for (uint32_t k = s.before;
           k <= std::min<uint32_t>(s.after + 1, kChanges); ++k) {
        cabled_during_send |= target_at[k] == receivers[i];
      }
      EXPECT_TRUE(cabled_during_send)
          << "message " << stamp.sequence << " reached dom" << receivers[i]
          << ", not cabled during versions " << s.before << ".." << s.after;
      ++delivered;
    }
  }
  EXPECT_EQ(delivered + refused, sent.size()) << "lost messages";
  EXPECT_GT(refused, 0u);
  EXPECT_GT(delivered, 0u);
}

}  // namespace
}  // namespace argo::testing
