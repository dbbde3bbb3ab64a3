// Concurrency stress: sender threads (one domain each) push 100,000
// messages each through the typed guest API into rings drained by reader
// threads. Every message carries (sender, sequence, checksum): zero loss,
// duplication, corruption or per-sender reordering is allowed, and every
// EAGAIN must be followed by a VIRQ wake-up (no lost wake-ups).
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "argo_core/guest/argo_guest.h"
#include "argo_core/guest/in_process_port.h"
#include "argo_core/hypervisor.h"
#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"

namespace argo {
namespace {

constexpr int kSenders = 2;
constexpr uint32_t kMessagesPerSender = 100000;
constexpr domid_t kReceiver = 1;
constexpr domid_t kFirstSender = 10;
constexpr absl::Duration kWakeTimeout = absl::Seconds(30);

struct Record {
  uint32_t sender;
  uint32_t sequence;
  uint32_t size;
  uint32_t checksum;  // over the filler bytes
};

uint32_t Fill(uint32_t sender, uint32_t sequence, uint8_t* bytes, uint32_t n) {
  uint32_t sum = 2166136261u;
  for (uint32_t i = 0; i < n; ++i) {
    bytes[i] = static_cast<uint8_t>((sender * 131 + sequence * 7 + i) & 0xFF);
    sum = (sum ^ bytes[i]) * 16777619u;
  }
  return sum;
}

uint32_t Checksum(const uint8_t* bytes, uint32_t n) {
  uint32_t sum = 2166136261u;
  for (uint32_t i = 0; i < n; ++i) sum = (sum ^ bytes[i]) * 16777619u;
  return sum;
}

struct Guest {
  std::unique_ptr<InProcessPort> port;
  std::unique_ptr<ArgoGuest> api;
};

class StressTest : public ::testing::Test {
 protected:
  Guest MakeGuest(domid_t domid) {
    EXPECT_TRUE(hv_.CreateDomain(domid, DomainConfig{4096, true}).ok());
    Guest g;
    g.port = std::make_unique<InProcessPort>(&hv_, domid);
    g.api = *ArgoGuest::Create(g.port.get(), hv_.DomainMemory(domid), domid);
    return g;
  }

  VirqRecorder virqs_;
  Hypervisor hv_{HypervisorOptions{}, &virqs_};
};

// Each sender has its own unicast ring at the receiver (port 100 + i) plus
// all share one wildcard ring (port 1): half the messages go each way, so
// the wildcard ring sees contention between senders.
TEST_F(StressTest, NoLossDuplicationCorruptionOrReordering) {
  Guest receiver = MakeGuest(kReceiver);
  std::vector<Guest> senders;
  for (int i = 0; i < kSenders; ++i)
    senders.push_back(MakeGuest(kFirstSender + i));

  std::vector<GuestRing*> rings;
  rings.push_back(
      *receiver.api->RegisterRing(1, XEN_ARGO_DOMID_ANY, 16 * 1024));
  for (int i = 0; i < kSenders; ++i) {
    rings.push_back(
        *receiver.api->RegisterRing(100 + i, kFirstSender + i, 8 * 1024));
  }

  std::atomic<uint64_t> eagains{0};
  std::atomic<uint64_t> wake_timeouts{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < kSenders; ++s) {
    threads.emplace_back([&, s] {
      ArgoGuest& api = *senders[s].api;
      const domid_t self = kFirstSender + s;
      uint8_t buffer[sizeof(Record) + 256];
      for (uint32_t seq = 0; seq < kMessagesPerSender; ++seq) {
        Record r{static_cast<uint32_t>(s), seq, 0, 0};
        r.size = (seq * 37 + s) % 241;
        r.checksum = Fill(r.sender, seq, buffer + sizeof(Record), r.size);
        std::memcpy(buffer, &r, sizeof(r));
        const xen_argo_addr_t dst{seq % 2 == 0 ? 1u : 100u + s, kReceiver, 0};
        for (;;) {
          const uint64_t seen = virqs_.Count(self);
          absl::StatusOr<uint32_t> sent = api.Send(
              7, dst, absl::MakeConstSpan(buffer, sizeof(Record) + r.size),
              seq);
          if (sent.ok()) break;
          ASSERT_EQ(sent.status().code(), absl::StatusCode::kUnavailable)
              << sent.status();
          ++eagains;
          // The EAGAIN queued a wait: a notify from the reader must wake us.
          if (virqs_.WaitBeyond(self, seen, kWakeTimeout) <= seen) {
            ++wake_timeouts;
          }
        }
      }
    });
  }

  // One reader thread per ring, each checking per-sender order on its ring.
  const uint64_t total = uint64_t{kSenders} * kMessagesPerSender;
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> bad{0};
  std::vector<std::thread> readers;
  for (size_t r = 0; r < rings.size(); ++r) {
    readers.emplace_back([&, r] {
      std::vector<int64_t> last_seq(kSenders, -1);
      while (received.load() < total && bad.load() == 0) {
        const uint64_t seen = virqs_.Count(kReceiver);
        bool any = false;
        for (;;) {
          auto msg = rings[r]->Read();
          if (!msg.ok()) {
            ++bad;
            break;
          }
          if (!msg->has_value()) break;
          any = true;
          const auto& payload = (*msg)->payload;
          Record rec;
          if (payload.size() < sizeof(rec)) {
            ++bad;
            continue;
          }
          std::memcpy(&rec, payload.data(), sizeof(rec));
          bool ok = rec.sender < kSenders &&
                    (*msg)->source.domain_id == kFirstSender + rec.sender &&
                    (*msg)->message_type == rec.sequence &&
                    payload.size() == sizeof(rec) + rec.size &&
                    Checksum(payload.data() + sizeof(rec), rec.size) ==
                        rec.checksum &&
                    static_cast<int64_t>(rec.sequence) > last_seq[rec.sender];
          if (!ok) {
            ++bad;
            continue;
          }
          last_seq[rec.sender] = rec.sequence;
          ++received;
        }
        if (any) {
          ASSERT_TRUE(receiver.api->NotifyNull().ok());
        } else {
          virqs_.WaitBeyond(kReceiver, seen, absl::Milliseconds(20));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& t : readers) t.join();

  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(received.load(), total);
  EXPECT_EQ(wake_timeouts.load(), 0u)
      << "an EAGAIN was never followed by a wake-up";
  for (GuestRing* ring : rings) EXPECT_EQ(ring->BytesAvailable(), 0u);
  // Message counts per ring add up exactly (no duplicates).
  uint64_t in = 0;
  for (const RingSnapshot& s : hv_.ListRings()) in += s.counters.messages_in;
  EXPECT_EQ(in, total);
  RecordProperty("eagains", static_cast<int>(eagains.load()));
}

// Register/unregister churn under concurrent sends: a send either lands
// whole in the ring that existed, or fails cleanly with ECONNREFUSED.
TEST_F(StressTest, RegisterUnregisterChurnUnderConcurrentSends) {
  Guest receiver = MakeGuest(kReceiver);
  Guest sender = MakeGuest(kFirstSender);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> unexpected{0};
  std::thread send_thread([&] {
    const uint8_t payload[64] = {1, 2, 3};
    while (!stop.load()) {
      auto sent =
          sender.api->Send(7, xen_argo_addr_t{5, kReceiver, 0}, payload, 0);
      if (sent.ok()) {
        ++delivered;
      } else if (sent.status().code() != absl::StatusCode::kNotFound &&
                 sent.status().code() != absl::StatusCode::kUnavailable) {
        ++unexpected;
      }
    }
  });
  uint64_t read = 0;
  for (int i = 0; i < 3000; ++i) {
    // Counted before the ring exists, so a delivery into this incarnation
    // always moves it (the sender may fill the ring before we look).
    const uint64_t before = delivered.load();
    auto ring = receiver.api->RegisterRing(5, kFirstSender, 4096);
    ASSERT_TRUE(ring.ok()) << ring.status();
    if (i % 100 == 0) {
      // Now and then keep the ring until a send lands in it, so the churn
      // is known to interleave with real deliveries.
      while (delivered.load() == before) std::this_thread::yield();
    }
    for (;;) {
      auto msg = (*ring)->Read();
      ASSERT_TRUE(msg.ok());
      if (!msg->has_value()) break;
      ASSERT_EQ((*msg)->payload.size(), 64u);
      ASSERT_EQ((*msg)->payload[2], 3);
      ++read;
    }
    ASSERT_TRUE(receiver.api->UnregisterRing(*ring).ok());
  }
  stop = true;
  send_thread.join();
  EXPECT_EQ(unexpected.load(), 0u);
  EXPECT_GT(delivered.load(), 0u);
  EXPECT_LE(read, delivered.load());
  EXPECT_TRUE(hv_.ListRings().empty());
}

}  // namespace
}  // namespace argo
