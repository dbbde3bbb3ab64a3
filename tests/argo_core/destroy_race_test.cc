// sendv and notify racing DestroyDomain of the destination or of the
// sender, the domid re-created at once (issue 8, C.1). A toolstack thread
// cycles one domid through many incarnations while a guest thread keeps
// sending; afterwards every ring of every incarnation is read back.
//
// What must hold: every call returns a payload length or an errno the
// spec allows for the race; every send that reported delivery is found,
// intact and exactly once, in a ring of an incarnation that was alive
// during the send; nothing else is found; and the counters agree.
#include <atomic>
#include <cstdint>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "argo_core/argo_limits.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/argo.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/virq_recorder.h"
#include "gtest/gtest.h"
#include "tests/testing/race_support.h"
#include "tests/testing/raw_guest.h"

namespace argo::testing {
namespace {

constexpr domid_t kSender = 1, kReceiver = 2;
constexpr xen_argo_port_t kSrcPort = 7;
constexpr xen_argo_port_t kWildcardPort = 50, kUnicastPort = 51;
constexpr xen_argo_port_t kNoRingPort = 52;
constexpr uint32_t kLen = 16 * 1024;
constexpr uint64_t kSecondRingFrame = kFirstRingFrame + 8;
constexpr DomainConfig kSmall{512, true};  // 2 MiB: room for both rings
// Incarnations per test, sized for a few seconds under TSan on 2 shared
// cores.
constexpr int kIncarnations = 250;
// Calls the guest completes in each incarnation before it is destroyed
// (so deliveries interleave with every destroy), and how many calls the
// toolstack lets it make across each of its own steps.
constexpr uint32_t kSendsPerIncarnation = 4;
constexpr uint32_t kMaxRunAhead = 24;

xen_argo_port_t PortFor(uint32_t seq) {
  return seq % 2 == 0 ? kWildcardPort : kUnicastPort;
}

// What the sending thread saw of one send.
struct SendRecord {
  int64_t rc = 0;
  uint32_t ended_before = 0;  // destination incarnations ended before it
  uint32_t begun_after = 0;   // destination incarnations begun after it
};

// The notify entries the guest asks about: the wildcard ring with room
// for the largest payload (usually a wait is queued: the teardown must
// drop it), the unicast ring with more than it can ever hold, no ring.
std::vector<xen_argo_ring_data_ent_t> NotifyEntries() {
  std::vector<xen_argo_ring_data_ent_t> ents(3);
  ents[0].ring = {kWildcardPort, kReceiver, 0};
  ents[0].space_required = MaxPayloadForRing(kLen);
  ents[1].ring = {kUnicastPort, kReceiver, 0};
  ents[1].space_required = kLen;
  ents[2].ring = {kNoRingPort, kReceiver, 0};
  return ents;
}

// Each filled entry is one the spec allows: no ring (flags 0), or the
// ring with its size and the flags its request implies.
void ExpectConsistentRingData(
    const std::vector<xen_argo_ring_data_ent_t>& in,
    const std::vector<xen_argo_ring_data_ent_t>& out) {
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const uint16_t flags = out[i].flags;
    if (flags == 0) continue;
    ASSERT_NE(out[i].ring.aport, kNoRingPort) << "flags " << flags;
    EXPECT_TRUE(flags & XEN_ARGO_RING_EXISTS) << "entry " << i;
    EXPECT_EQ(out[i].max_message_size, MaxPayloadForRing(kLen));
    EXPECT_EQ((flags & XEN_ARGO_RING_SHARED) != 0,
              out[i].ring.aport == kWildcardPort);
    EXPECT_EQ((flags & XEN_ARGO_RING_EMSGSIZE) != 0,
              in[i].space_required > MaxPayloadForRing(kLen));
  }
}

// Checks one ring's messages against the send records and marks them
// found; `incarnation` is the destination's, when it was cycled.
void CheckArrivals(const std::vector<ReceivedMessage>& messages,
                   xen_argo_port_t ring_port,
                   const std::vector<SendRecord>& sent,
                   absl::optional<uint32_t> incarnation,
                   std::vector<bool>* found) {
  for (const ReceivedMessage& m : messages) {
    absl::optional<uint32_t> seq = SeqOf(m.payload);
    ASSERT_TRUE(seq.has_value()) << "a torn or foreign message";
    ASSERT_LT(*seq, sent.size());
    const SendRecord& s = sent[*seq];
    EXPECT_EQ(s.rc, static_cast<int64_t>(m.payload.size()))
        << "message " << *seq << " arrived but its sendv returned " << s.rc;
    EXPECT_EQ(m.message_type, *seq);
    EXPECT_EQ(m.source.domain_id, kSender);
    EXPECT_EQ(m.source.aport, kSrcPort);
    EXPECT_EQ(PortFor(*seq), ring_port) << "message " << *seq;
    if (incarnation.has_value()) {
      EXPECT_TRUE(s.ended_before < *incarnation &&
                  *incarnation <= s.begun_after)
          << "message " << *seq << " landed in incarnation " << *incarnation
          << ", dead or unborn during its send (ended before " << s.ended_before
          << ", begun after " << s.begun_after << ")";
    }
    EXPECT_FALSE((*found)[*seq]) << "message " << *seq << " twice";
    (*found)[*seq] = true;
  }
}

// Every send that reported delivery was found, and only those. Returns
// how many were delivered, and records how many failed with each errno
// (to see in test.xml which interleavings a run reached).
uint64_t ExpectFoundExactlyTheDelivered(const std::vector<SendRecord>& sent,
                                        const std::vector<bool>& found) {
  uint64_t delivered = 0;
  std::map<int64_t, int> failures;
  for (uint32_t seq = 0; seq < sent.size(); ++seq) {
    const bool ok = sent[seq].rc == SeqPayloadSize(seq);
    if (ok) {
      ++delivered;
    } else {
      ++failures[sent[seq].rc];
    }
    EXPECT_EQ(found[seq], ok) << "message " << seq << " (rc " << sent[seq].rc
                              << ") lost or unaccounted for";
  }
  ::testing::Test::RecordProperty("sends", static_cast<int>(sent.size()));
  ::testing::Test::RecordProperty("delivered", static_cast<int>(delivered));
  for (const auto& [rc, n] : failures) {
    ::testing::Test::RecordProperty(absl::StrCat("rc", rc), n);
  }
  return delivered;
}

class DestroyRaceTest : public ::testing::Test {
 protected:
  VirqRecorder virqs_;
  Hypervisor hv_{HypervisorOptions{}, &virqs_};
  std::atomic<bool> stop_{false};
  Pacer pacer_{kMaxRunAhead};
};

TEST_F(DestroyRaceTest, DestinationDestroyedAndRecreatedUnderSendvAndNotify) {
  ASSERT_TRUE(hv_.CreateDomain(kSender, kSmall).ok());
  Lifecycle receiver(&hv_, kReceiver, kSmall);
  const std::vector<uint64_t> wildcard_frames = RawGuest::Frames(kLen);
  const std::vector<uint64_t> unicast_frames =
      RawGuest::Frames(kLen, kSecondRingFrame);

  std::vector<SendRecord> sent;
  StoppingThread guest(&stop_, [&] {
    Pacer::GuestScope scope(&pacer_);
    RawGuest s(&hv_, kSender);
    const std::vector<xen_argo_ring_data_ent_t> ents = NotifyEntries();
    std::vector<xen_argo_ring_data_ent_t> out;
    for (uint32_t seq = 0; !stop_.load(); ++seq) {
      pacer_.Pace(stop_);
      SendRecord r;
      r.ended_before = receiver.ended();
      r.rc = s.Send(kSrcPort, kReceiver, PortFor(seq), SeqPayload(seq), seq);
      r.begun_after = receiver.begun();
      // ESRCH: no receiver; ECONNREFUSED: its rings are not registered yet;
      // EAGAIN: a ring is full.
      ASSERT_TRUE(r.rc == SeqPayloadSize(seq) ||
                  IsOneOf(r.rc, {XEN_ESRCH, XEN_ECONNREFUSED, XEN_EAGAIN}))
          << "sendv " << seq << " returned " << r.rc;
      sent.push_back(r);
      if (seq % 3 == 0) {
        // The sender is alive: notify succeeds whatever the receiver does.
        ASSERT_EQ(s.Notify(ents, &out), 0);
        ExpectConsistentRingData(ents, out);
      }
      pacer_.CallDone();
    }
  });

  // Each incarnation's rings, read once it is dead (nothing writes them
  // then), with their ring port and incarnation.
  struct Arrivals {
    std::vector<ReceivedMessage> messages;
    xen_argo_port_t port;
    uint32_t incarnation;
  };
  std::vector<Arrivals> arrivals;
  for (int i = 0; i < kIncarnations; ++i) {
    pacer_.Allow();
    const uint32_t k = receiver.Create();
    RawGuest r(&hv_, kReceiver);
    ASSERT_EQ(
        r.Register(kWildcardPort, XEN_ARGO_DOMID_ANY, kLen, wildcard_frames),
        0);
    ASSERT_EQ(r.Register(kUnicastPort, kSender, kLen, unicast_frames), 0);
    RingView views[] = {r.View(wildcard_frames, kLen),
                        r.View(unicast_frames, kLen)};
    pacer_.AwaitCalls(kSendsPerIncarnation);
    pacer_.Allow();
    receiver.Destroy();
    for (int v = 0; v < 2; ++v) {
      Arrivals a{{}, v == 0 ? kWildcardPort : kUnicastPort, k};
      ASSERT_TRUE(Drain(*views[v].reader, &a.messages));
      arrivals.push_back(std::move(a));
    }
  }
  guest.Join();

  std::vector<bool> found(sent.size(), false);
  for (const Arrivals& a : arrivals) {
    CheckArrivals(a.messages, a.port, sent, a.incarnation, &found);
  }
  const uint64_t delivered = ExpectFoundExactlyTheDelivered(sent, found);
  EXPECT_GE(delivered, uint64_t{kIncarnations})
      << "too few deliveries to have raced anything";
  absl::StatusOr<DomainInfo> info = hv_.GetDomainInfo(kSender);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->messages_sent, delivered);
}

TEST_F(DestroyRaceTest, SenderDestroyedAndRecreatedUnderSendvAndNotify) {
  ASSERT_TRUE(hv_.CreateDomain(kReceiver, kSmall).ok());
  Lifecycle sender(&hv_, kSender, kSmall);
  RawGuest r(&hv_, kReceiver);
  const std::vector<uint64_t> wildcard_frames = RawGuest::Frames(kLen);
  const std::vector<uint64_t> unicast_frames =
      RawGuest::Frames(kLen, kSecondRingFrame);
  // The wildcard ring outlives every sender; the unicast ring names the
  // sender, so each destroy tears it down and the toolstack re-registers
  // it (same frames: it carries on from its old tx) for the next one.
  ASSERT_EQ(
      r.Register(kWildcardPort, XEN_ARGO_DOMID_ANY, kLen, wildcard_frames), 0);
  RingView wildcard = r.View(wildcard_frames, kLen);
  RingView unicast = r.View(unicast_frames, kLen);

  std::vector<SendRecord> sent;
  StoppingThread guest(&stop_, [&] {
    Pacer::GuestScope scope(&pacer_);
    const std::vector<xen_argo_ring_data_ent_t> ents = NotifyEntries();
    std::vector<xen_argo_ring_data_ent_t> out;
    uint32_t seq = 0;
    while (!stop_.load()) {
      absl::optional<Lifecycle::Attached> self = sender.Attach();
      if (!self.has_value()) {
        std::this_thread::yield();
        continue;
      }
      // Issue calls as this incarnation until one finds it gone.
      for (bool live = true; live && !stop_.load(); ++seq) {
        pacer_.Pace(stop_);
        SendRecord rec;
        rec.rc = self->guest.Send(kSrcPort, kReceiver, PortFor(seq),
                                  SeqPayload(seq), seq);
        live = sender.StillLive(self->incarnation);
        // Ran as the attached incarnation throughout: delivered, no ring
        // (the unicast ring is not back yet) or full. Otherwise also ESRCH
        // (no sender) and EPERM (it ran as the next incarnation, whose
        // memory holds no arguments: src names domain 0).
        const bool allowed = rec.rc == SeqPayloadSize(seq) ||
                             IsOneOf(rec.rc, {XEN_ECONNREFUSED, XEN_EAGAIN}) ||
                             (!live && IsOneOf(rec.rc, {XEN_ESRCH, XEN_EPERM}));
        ASSERT_TRUE(allowed) << "sendv " << seq << " returned " << rec.rc
                             << (live ? " (sender alive throughout)" : "");
        sent.push_back(rec);
        if (seq % 3 == 0) {
          const int64_t rc = self->guest.Notify(ents, &out);
          live = sender.StillLive(self->incarnation);
          ASSERT_TRUE(rc == 0 || (!live && rc == -XEN_ESRCH))
              << "notify returned " << rc;
          if (rc == 0 && live) ExpectConsistentRingData(ents, out);
        }
        pacer_.CallDone();
      }
    }
  });

  std::vector<ReceivedMessage> from_wildcard, from_unicast;
  for (int i = 0; i < kIncarnations; ++i) {
    pacer_.Allow();
    sender.Create();
    ASSERT_EQ(r.Register(kUnicastPort, kSender, kLen, unicast_frames), 0);
    pacer_.AwaitCalls(kSendsPerIncarnation);
    pacer_.Allow();
    sender.Destroy();
    // The dead sender's waits on the wildcard ring went with it.
    absl::optional<RingSnapshot> ring =
        hv_.LookupRing(kReceiver, kWildcardPort, kSender);
    ASSERT_TRUE(ring.has_value());
    EXPECT_TRUE(ring->pending.empty()) << "a dead sender still waits";
    EXPECT_FALSE(hv_.LookupRing(kReceiver, kUnicastPort, kSender).has_value())
        << "the unicast ring outlived its partner";
    ASSERT_TRUE(Drain(*wildcard.reader, &from_wildcard));
    ASSERT_TRUE(Drain(*unicast.reader, &from_unicast));
  }
  guest.Join();

  std::vector<bool> found(sent.size(), false);
  CheckArrivals(from_wildcard, kWildcardPort, sent, absl::nullopt, &found);
  CheckArrivals(from_unicast, kUnicastPort, sent, absl::nullopt, &found);
  const uint64_t delivered = ExpectFoundExactlyTheDelivered(sent, found);
  EXPECT_GE(delivered, uint64_t{kIncarnations});
  absl::StatusOr<DomainInfo> info = hv_.GetDomainInfo(kReceiver);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->messages_received, delivered);
  EXPECT_EQ(info->partner_records, 0u);
}

}  // namespace
}  // namespace argo::testing
