// guest::Guest against a real level behind the attach socket: explicit,
// wildcard and implicit sends, waiting for space, notify with the implicit
// sentinel, pages for raw hypercalls, the in-process constructor, and a
// daemon that goes away.
#include "guest/guest.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "argo_core/guest/in_process_port.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/virq_recorder.h"
#include "argo_core/xen_status.h"
#include "gtest/gtest.h"
#include "tests/guest/guest_world.h"

namespace argo::guest {
namespace {

using ::argo::testing::GuestWorld;
using ::argo::testing::NextMessage;
using transport::Mode;

constexpr domid_t kA = GuestWorld::kA;
constexpr domid_t kB = GuestWorld::kB;

absl::Span<const uint8_t> Bytes(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()),
                                   s.size());
}

std::string Text(const ReceivedMessage& m) {
  return std::string(m.payload.begin(), m.payload.end());
}

class GuestTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { ASSERT_TRUE(world_.Start().ok()); }

  std::unique_ptr<Guest> MustAttach(domid_t d) {
    auto g = Guest::Attach(world_.harness().OptionsFor(d, GetParam()));
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? *std::move(g) : nullptr;
  }

  // Sends `payload` from `from` until the ring is full; returns how many
  // went in.
  int FillRing(Guest& from, xen_argo_port_t src, xen_argo_addr_t dst,
               const std::string& payload) {
    for (int n = 0; n < 1000; ++n) {
      auto sent = from.Send(src, dst, Bytes(payload), 0);
      if (!sent.ok()) {
        EXPECT_EQ(XenErrnoOf(sent.status()), XEN_EAGAIN) << sent.status();
        return n;
      }
    }
    ADD_FAILURE() << "ring never filled";
    return 0;
  }

  uint64_t Eagains(domid_t d) {
    auto info = world_.hv().GetDomainInfo(d);
    return info.ok() ? info->eagain : 0;
  }

  GuestWorld world_;
};

TEST_P(GuestTest, ExplicitSendArrivesWithStampedSourceAndType) {
  auto a = MustAttach(kA);
  auto b = MustAttach(kB);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->domid(), kA);
  auto ring = a->RegisterRing(20, kB, 4096);
  ASSERT_TRUE(ring.ok()) << ring.status();
  auto sent = b->Send(5, xen_argo_addr_t{20, kA, 0}, Bytes("hello A"), 3);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, 7u);
  auto m = NextMessage(*a, *ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->source.domain_id, kB);
  EXPECT_EQ(m->source.aport, 5u);
  EXPECT_EQ(m->message_type, 3u);
  EXPECT_EQ(Text(*m), "hello A");
}

TEST_P(GuestTest, WildcardRingTakesAnySender) {
  auto a = MustAttach(kA);
  auto b = MustAttach(kB);
  ASSERT_TRUE(a && b);
  auto ring = a->RegisterRing(30, XEN_ARGO_DOMID_ANY, 4096);
  ASSERT_TRUE(ring.ok()) << ring.status();
  const std::string two = "two ", parts_text = "parts";
  const absl::Span<const uint8_t> parts[] = {Bytes(two), Bytes(parts_text)};
  auto sent = b->Sendv(6, xen_argo_addr_t{30, kA, 0}, parts, 0);
  ASSERT_TRUE(sent.ok()) << sent.status();
  auto m = NextMessage(*a, *ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(Text(*m), "two parts");
}

TEST_P(GuestTest, SendWaitingForSpaceCompletesOnceTheReceiverConsumes) {
  auto a = MustAttach(kA);
  auto b = MustAttach(kB);
  ASSERT_TRUE(a && b);
  auto ring = a->RegisterRing(20, kB, 256);
  ASSERT_TRUE(ring.ok()) << ring.status();
  const xen_argo_addr_t dst{20, kA, 0};
  const std::string filler(48, 'f');
  const int queued = FillRing(*b, 5, dst, filler);
  ASSERT_GT(queued, 0);
  const uint64_t eagains = Eagains(kB);
  // As large as the filler, so it does not fit the last free slots either.
  const std::string late = std::string(44, 'l') + "late";
  absl::StatusOr<uint32_t> waited;
  std::thread sender([&] {
    waited = b->SendWaitingForSpace(5, dst, Bytes(late), 9, absl::Seconds(20));
  });
  // Consume only once the sender has met the full ring.
  for (int i = 0; i < 2000 && Eagains(kB) == eagains; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto first = (*ring)->Read();
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_TRUE(a->NotifyNull().ok());
  sender.join();
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(*waited, late.size());
  EXPECT_GT(Eagains(kB), eagains);  // it did wait
  std::vector<std::string> rest;
  while (auto m = NextMessage(*a, *ring)) {
    rest.push_back(Text(*m));
    if (rest.back() == late) break;
  }
  ASSERT_EQ(rest.size(), static_cast<size_t>(queued));
  EXPECT_EQ(rest.back(), late);
}

TEST_P(GuestTest, SendWaitingForSpaceTimesOutWithEagain) {
  auto a = MustAttach(kA);
  auto b = MustAttach(kB);
  ASSERT_TRUE(a && b);
  auto ring = a->RegisterRing(20, kB, 256);
  ASSERT_TRUE(ring.ok());
  const xen_argo_addr_t dst{20, kA, 0};
  const std::string filler(48, 'f');
  ASSERT_GT(FillRing(*b, 5, dst, filler), 0);
  auto sent =
      b->SendWaitingForSpace(5, dst, Bytes(filler), 0, absl::Milliseconds(50));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_EAGAIN);
  EXPECT_TRUE(absl::StartsWith(sent.status().message(),
                               "EAGAIN: ring at 1:20 is full; no space within"))
      << sent.status();
}

INSTANTIATE_TEST_SUITE_P(BothModes, GuestTest,
                         ::testing::Values(Mode::kBlocking, Mode::kLowLatency));

class GuestBlockingTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(world_.Start().ok()); }
  std::unique_ptr<Guest> MustAttach(domid_t d) {
    auto g = Guest::Attach(world_.harness().OptionsFor(d, Mode::kBlocking));
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? *std::move(g) : nullptr;
  }
  GuestWorld world_;
};

TEST_F(GuestBlockingTest, SendToMissingRingSaysWhereInWords) {
  auto b = MustAttach(kB);
  ASSERT_TRUE(b);
  auto sent = b->Send(5, xen_argo_addr_t{99, kA, 0}, Bytes("x"), 0);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_ECONNREFUSED);
  EXPECT_EQ(sent.status().message(),
            "ECONNREFUSED: no ring at 1:99 takes messages from this domain");
  auto no_domain = b->Send(5, xen_argo_addr_t{1, 77, 0}, Bytes("x"), 0);
  EXPECT_EQ(no_domain.status().message(), "ESRCH: no domain 77");
}

TEST_F(GuestBlockingTest, RegisterErrorsAreWorded) {
  auto a = MustAttach(kA);
  ASSERT_TRUE(a);
  auto bad_len = a->RegisterRing(20, kB, 100);
  EXPECT_EQ(XenErrnoOf(bad_len.status()), XEN_EINVAL);
  auto ring = a->RegisterRing(20, kB, 4096);
  ASSERT_TRUE(ring.ok());
  auto again = a->RegisterRing(20, kB, 8192);
  EXPECT_EQ(XenErrnoOf(again.status()), XEN_EEXIST);
  EXPECT_TRUE(absl::StartsWith(again.status().message(),
                               "EEXIST: a ring on port 20 partner 2 exists"))
      << again.status();
  EXPECT_TRUE(a->UnregisterRing(*ring).ok());
}

TEST_F(GuestBlockingTest, ImplicitSendFollowsTheCable) {
  auto a = MustAttach(kA);
  auto b = MustAttach(kB);
  ASSERT_TRUE(a && b);
  auto ring = b->RegisterRing(GuestWorld::kCableB, kA, 4096);
  ASSERT_TRUE(ring.ok()) << ring.status();
  auto sent = a->SendImplicit(GuestWorld::kCableA, Bytes("via cable"), 4);
  ASSERT_TRUE(sent.ok()) << sent.status();
  auto m = NextMessage(*b, *ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->source.domain_id, kA);
  EXPECT_EQ(m->source.aport, GuestWorld::kCableA);
  EXPECT_EQ(Text(*m), "via cable");

  auto uncabled = a->SendImplicit(8, Bytes("x"), 0);
  EXPECT_EQ(XenErrnoOf(uncabled.status()), XEN_ECONNREFUSED);
  EXPECT_EQ(uncabled.status().message(), "ECONNREFUSED: port 8 is not cabled");
}

TEST_F(GuestBlockingTest, ImplicitSendWaitsForSpaceThroughTheSentinel) {
  auto a = MustAttach(kA);
  auto b = MustAttach(kB);
  ASSERT_TRUE(a && b);
  auto ring = b->RegisterRing(GuestWorld::kCableB, kA, 256);
  ASSERT_TRUE(ring.ok());
  int queued = 0;
  while (a->SendImplicit(GuestWorld::kCableA, Bytes(std::string(48, 'f')), 0)
             .ok()) {
    ++queued;
  }
  ASSERT_GT(queued, 0);
  const uint64_t eagains = world_.hv().GetDomainInfo(kA)->eagain;
  absl::StatusOr<uint32_t> waited;
  std::thread sender([&] {
    waited = a->SendWaitingForSpace(GuestWorld::kCableA, kImplicitDestination,
                                    Bytes(std::string(48, 'l')), 0,
                                    absl::Seconds(20));
  });
  for (int i = 0; i < 2000 && world_.hv().GetDomainInfo(kA)->eagain == eagains;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE((*ring)->Read().ok());
  ASSERT_TRUE(b->NotifyNull().ok());
  sender.join();
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_GT(world_.hv().GetDomainInfo(kA)->eagain, eagains);
}

TEST_F(GuestBlockingTest, NotifyWithTheImplicitSentinelDescribesTheCabledRing) {
  auto a = MustAttach(kA);
  auto b = MustAttach(kB);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(b->RegisterRing(GuestWorld::kCableB, kA, 4096).ok());
  const RingQuery queries[] = {
      {xen_argo_addr_t{GuestWorld::kCableA, ARGO_DOMID_IMPLICIT, 0}, 16},
      {xen_argo_addr_t{8, ARGO_DOMID_IMPLICIT, 0}, 16},  // not cabled
  };
  auto ents = a->Notify(queries);
  ASSERT_TRUE(ents.ok()) << ents.status();
  EXPECT_EQ((*ents)[0].flags, XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_SUFFICIENT |
                                  XEN_ARGO_RING_EMPTY);
  EXPECT_EQ((*ents)[0].max_message_size, 4096u - 32);
  EXPECT_EQ((*ents)[1].flags, 0);
}

TEST_F(GuestBlockingTest, AllocatedPagesServeRawHypercalls) {
  auto a = MustAttach(kA);
  ASSERT_TRUE(a);
  auto pages = a->AllocatePages(2);
  ASSERT_TRUE(pages.ok()) << pages.status();
  ASSERT_EQ(pages->size(), 2u);
  EXPECT_NE((*pages)[0], (*pages)[1]);
  const uint64_t gpa = (*pages)[0] * 4096;
  const xen_argo_unregister_ring_t unreg{42, kB, 0};
  ASSERT_TRUE(a->memory().CopyTo(gpa, &unreg, sizeof(unreg)));
  EXPECT_EQ(a->Hypercall(XEN_ARGO_OP_unregister_ring, gpa, 0, 0, 0),
            -XEN_ENOENT);
  EXPECT_EQ(a->Hypercall(99, 0, 0, 0, 0), -XEN_EOPNOTSUPP);
  // A ring still finds frames beside the caller's pages.
  EXPECT_TRUE(a->RegisterRing(20, kB, 4096).ok());
  a->FreePages(*pages);
}

TEST_F(GuestBlockingTest, DaemonGoneIsEio) {
  auto b = MustAttach(kB);
  ASSERT_TRUE(b);
  world_.StopServer();
  auto sent = b->Send(5, xen_argo_addr_t{20, kA, 0}, Bytes("x"), 0);
  EXPECT_EQ(XenErrnoOf(sent.status()), XEN_EIO);
  EXPECT_EQ(sent.status().message(),
            "EIO: argo-hv went away (the call did not run)");
  EXPECT_FALSE(b->WaitVirq(absl::Seconds(5)).ok());
}

TEST(InProcessGuestTest, UsesTheSameApiAsAnAttachedGuest) {
  VirqRecorder virqs;
  Hypervisor hv(HypervisorOptions{}, &virqs);
  for (domid_t d : {kA, kB}) {
    ASSERT_TRUE(hv.CreateDomain(d, DomainConfig{512, true}).ok());
  }
  InProcessPort port_a(&hv, kA), port_b(&hv, kB);
  RecorderVirqWaiter virq_a(&virqs, kA), virq_b(&virqs, kB);
  auto a = Guest::Create(&port_a, hv.DomainMemory(kA), kA, &virq_a);
  auto b = Guest::Create(&port_b, hv.DomainMemory(kB), kB, &virq_b);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->attachment(), nullptr);
  auto ring = (*a)->RegisterRing(20, kB, 4096);
  ASSERT_TRUE(ring.ok());
  ASSERT_TRUE(
      (*b)->Send(5, xen_argo_addr_t{20, kA, 0}, Bytes("inproc"), 1).ok());
  auto m = NextMessage(**a, *ring);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(Text(*m), "inproc");
  EXPECT_FALSE(Guest::Create(&port_a, hv.DomainMemory(kA), kA, nullptr).ok());
}

}  // namespace
}  // namespace argo::guest
