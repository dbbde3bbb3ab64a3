// Implicit sends through the hypercall ABI (DESIGN §4): sentinel rules,
// resolution across ring kinds, EAGAIN and wake-up, notify with the
// sentinel, PARENT, generations on destroy and re-create.
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"
#include "tests/testing/implicit_world.h"

namespace argo::testing {
namespace {

constexpr domid_t kStorage = 1, kClientA = 2, kClientB = 3;
constexpr xen_argo_port_t kStoragePort = 80;
constexpr xen_argo_port_t kMyStorage = 7;  // the clients' well-known port
constexpr uint32_t kLen = 4096;

class ImplicitSendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (domid_t d : {kStorage, kClientA, kClientB}) world_.AddDomain(d);
    storage_ = std::make_unique<RawGuest>(world_.hv.get(), kStorage);
    a_ = std::make_unique<RawGuest>(world_.hv.get(), kClientA);
    b_ = std::make_unique<RawGuest>(world_.hv.get(), kClientB);
    frames_ = RawGuest::Frames(kLen);
    ASSERT_EQ(
        storage_->Register(kStoragePort, XEN_ARGO_DOMID_ANY, kLen, frames_), 0);
    // A's cable carries replies back; B's is one-way (storage:80 can lead
    // back to one client only).
    ASSERT_TRUE(
        world_.table
            .Connect({kClientA, kMyStorage}, {kStorage, kStoragePort}, true)
            .ok());
    ASSERT_TRUE(
        world_.table
            .Connect({kClientB, kMyStorage}, {kStorage, kStoragePort}, false)
            .ok());
  }
  int64_t SendImplicit(const RawGuest& g, xen_argo_port_t port, uint32_t size,
                       uint32_t type = 0) {
    return ImplicitWorld::SendImplicit(g, port, Pattern(type, size), type);
  }

  ImplicitWorld world_;
  std::unique_ptr<RawGuest> storage_, a_, b_;
  std::vector<uint64_t> frames_;
};

TEST_F(ImplicitSendTest, ReceiverSeesTheRealSender) {
  const uint64_t virqs = world_.virqs.Count(kStorage);
  ASSERT_EQ(SendImplicit(*a_, kMyStorage, 100, 1), 100);
  ASSERT_EQ(SendImplicit(*b_, kMyStorage, 50, 2), 50);
  EXPECT_EQ(world_.virqs.Count(kStorage), virqs + 2);
  RingView view = storage_->View(frames_, kLen);
  auto first = view.reader->Read();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->source.domain_id, kClientA);
  EXPECT_EQ((*first)->source.aport, kMyStorage);
  EXPECT_EQ((*first)->payload, Pattern(1, 100));
  auto second = view.reader->Read();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->source.domain_id, kClientB);
  EXPECT_EQ((*second)->message_type, 2u);
}

TEST_F(ImplicitSendTest, SentinelWithNonZeroPortIsEinval) {
  EXPECT_EQ(a_->Send(kMyStorage, ARGO_DOMID_IMPLICIT, 1, Pattern(1, 8)),
            -XEN_EINVAL);
}

TEST_F(ImplicitSendTest, UncabledPortIsEconnrefused) {
  EXPECT_EQ(SendImplicit(*a_, 99, 8), -XEN_ECONNREFUSED);
}

TEST_F(ImplicitSendTest, SourceChecksStillComeFirst) {
  // Claiming another domain's source is EPERM before any resolution.
  a_->Put(kStructGpa, xen_argo_send_addr_t{{kMyStorage, kClientB, 0},
                                           {0, ARGO_DOMID_IMPLICIT, 0}});
  EXPECT_EQ(a_->Op(XEN_ARGO_OP_sendv, kStructGpa, kIovGpa, 0, 0), -XEN_EPERM);
}

TEST_F(ImplicitSendTest, UnicastRingForTheSenderIsChosenFirst) {
  // Storage also has a unicast ring on the same port for client B.
  std::vector<uint64_t> unicast = RawGuest::Frames(kLen, 0x200);
  ASSERT_EQ(storage_->Register(kStoragePort, kClientB, kLen, unicast), 0);
  ASSERT_EQ(SendImplicit(*b_, kMyStorage, 10), 10);
  ASSERT_EQ(SendImplicit(*a_, kMyStorage, 10), 10);
  EXPECT_EQ(storage_->View(unicast, kLen).reader->BytesAvailable(), 32u);
  EXPECT_EQ(storage_->View(frames_, kLen).reader->BytesAvailable(), 32u);
}

TEST_F(ImplicitSendTest, FullRingIsEagainThenSpaceWakesTheSender) {
  ASSERT_EQ(SendImplicit(*a_, kMyStorage, 4000), 4000);
  EXPECT_EQ(SendImplicit(*a_, kMyStorage, 200), -XEN_EAGAIN);
  const uint64_t before = world_.virqs.Count(kClientA);
  RingView view = storage_->View(frames_, kLen);
  ASSERT_TRUE(view.reader->Read().ok());
  ASSERT_EQ(storage_->NotifyNull(), 0);
  EXPECT_EQ(world_.virqs.Count(kClientA), before + 1);
  EXPECT_EQ(SendImplicit(*a_, kMyStorage, 200), 200);
}

TEST_F(ImplicitSendTest, MessageTooLargeForTheRingIsEmsgsize) {
  EXPECT_EQ(SendImplicit(*a_, kMyStorage, kLen), -XEN_EMSGSIZE);
}

TEST_F(ImplicitSendTest, ParentDestinationIsEnosysUntilNesting) {
  ASSERT_TRUE(
      world_.table.Connect({kClientA, 20}, {ARGO_DOMID_PARENT, 3}, false).ok());
  EXPECT_EQ(SendImplicit(*a_, 20, 8), -XEN_ENOSYS);
}

TEST_F(ImplicitSendTest, StorageRepliesImplicitlyOverTheReverseCable) {
  std::vector<uint64_t> reply = RawGuest::Frames(kLen, 0x300);
  ASSERT_EQ(a_->Register(kMyStorage, kStorage, kLen, reply), 0);
  auto back = world_.table.Lookup({kStorage, kStoragePort});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->domid, kClientA);
  ASSERT_EQ(SendImplicit(*storage_, kStoragePort, 12), 12);
  auto msg = a_->View(reply, kLen).reader->Read();
  ASSERT_TRUE(msg.ok() && msg->has_value());
  EXPECT_EQ((*msg)->source.domain_id, kStorage);
  EXPECT_EQ((*msg)->source.aport, kStoragePort);
}

TEST_F(ImplicitSendTest, NotifyWithTheSentinelQueriesTheCabledRing) {
  xen_argo_ring_data_ent_t query = {};
  query.ring = {kMyStorage, ARGO_DOMID_IMPLICIT, 0};  // aport: my source port
  query.space_required = 100;
  std::vector<xen_argo_ring_data_ent_t> out;
  ASSERT_EQ(a_->Notify({query}, &out), 0);
  EXPECT_EQ(out[0].flags, XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_SHARED |
                              XEN_ARGO_RING_EMPTY | XEN_ARGO_RING_SUFFICIENT);
  EXPECT_EQ(out[0].max_message_size, kLen - 32);
  EXPECT_EQ(out[0].ring.domain_id, ARGO_DOMID_IMPLICIT) << "never rewritten";
  query.ring.aport = 99;  // not cabled
  ASSERT_EQ(a_->Notify({query}, &out), 0);
  EXPECT_EQ(out[0].flags, 0u);
}

TEST_F(ImplicitSendTest, DestroyedDestinationRefusesAndItsCablesGo) {
  ASSERT_TRUE(world_.hv->DestroyDomain(kStorage).ok());
  EXPECT_EQ(SendImplicit(*a_, kMyStorage, 8), -XEN_ECONNREFUSED);
  EXPECT_TRUE(world_.table.List().empty());
}

TEST_F(ImplicitSendTest, RecreatedDestinationDoesNotInheritCables) {
  ASSERT_TRUE(world_.hv->DestroyDomain(kStorage).ok());
  world_.AddDomain(kStorage);
  RawGuest storage2(world_.hv.get(), kStorage);
  ASSERT_EQ(storage2.Register(kStoragePort, XEN_ARGO_DOMID_ANY, kLen, frames_),
            0);
  EXPECT_EQ(SendImplicit(*a_, kMyStorage, 8), -XEN_ECONNREFUSED)
      << "the cable named the old storage domain";
  ASSERT_TRUE(
      world_.table
          .Connect({kClientA, kMyStorage}, {kStorage, kStoragePort}, false)
          .ok());
  EXPECT_EQ(SendImplicit(*a_, kMyStorage, 8), 8);
}

TEST_F(ImplicitSendTest, StaleEntryOfARecreatedSenderNeverMatches) {
  // Resolve is handed the sender's generation: a re-created clientA with
  // the same domid does not use the old domain's cable, even before the
  // table has dropped it.
  implicit_dest::ImplicitTable& table = world_.table;
  auto generation = world_.hv->DomainGeneration(kClientA);
  ASSERT_TRUE(generation.ok());
  EXPECT_EQ(table.Resolve(kClientA, *generation, kMyStorage).rc, 0);
  EXPECT_EQ(table.Resolve(kClientA, *generation + 1, kMyStorage).rc,
            -XEN_ECONNREFUSED);
}

}  // namespace
}  // namespace argo::testing
