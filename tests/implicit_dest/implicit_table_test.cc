// The toolstack side of the implicit-destination table: every validation
// path (and that a failed call changes nothing), cables, disconnect, list,
// domain destroy and domid reuse.
#include "implicit_dest/implicit_table.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/implicit_world.h"

namespace argo::testing {
namespace {

using implicit_dest::Cable;
using implicit_dest::Endpoint;

constexpr domid_t kStorage = 1, kClientA = 2, kClientB = 3;
const Endpoint kParent5{ARGO_DOMID_PARENT, 5};

class ImplicitTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (domid_t d : {kStorage, kClientA, kClientB}) world_.AddDomain(d);
  }
  implicit_dest::ImplicitTable& table() { return world_.table; }
  ImplicitWorld world_;
};

TEST_F(ImplicitTableTest, OneWayAndBidirectionalCables) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, false).ok());
  ASSERT_TRUE(table().Connect({kClientB, 7}, {kStorage, 81}, true).ok());
  EXPECT_EQ(table().size(), 3u);
  EXPECT_EQ(table().Lookup({kClientA, 7}), (Endpoint{kStorage, 80}));
  EXPECT_FALSE(table().Lookup({kStorage, 80}).has_value()) << "one-way";
  EXPECT_EQ(table().Lookup({kStorage, 81}), (Endpoint{kClientB, 7}));
}

TEST_F(ImplicitTableTest, ValidationErrorsChangeNothing) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, true).ok());
  struct Case {
    Endpoint from, to;
    bool bidirectional;
    absl::StatusCode code;
  } cases[] = {
      {{9, 1}, {kStorage, 80}, false, absl::StatusCode::kNotFound},
      {{kClientB, 1}, {9, 80}, false, absl::StatusCode::kNotFound},
      {{DOMID_SELF, 1},
       {kStorage, 80},
       false,
       absl::StatusCode::kInvalidArgument},
      {{kClientB, 1},
       {ARGO_DOMID_IMPLICIT, 80},
       false,
       absl::StatusCode::kInvalidArgument},
      {{kClientB, 1}, {kClientB, 1}, false, absl::StatusCode::kInvalidArgument},
      {kParent5,
       {ARGO_DOMID_PARENT, 6},
       false,
       absl::StatusCode::kInvalidArgument},
      {{kClientA, 7}, {kStorage, 99}, false, absl::StatusCode::kAlreadyExists},
      // Bidirectional: the far end (storage:80) is already cabled back.
      {{kClientB, 7}, {kStorage, 80}, true, absl::StatusCode::kAlreadyExists},
  };
  for (const Case& c : cases) {
    absl::Status s = table().Connect(c.from, c.to, c.bidirectional);
    EXPECT_EQ(s.code(), c.code)
        << implicit_dest::EndpointName(c.from) << " -> "
        << implicit_dest::EndpointName(c.to) << ": " << s;
    EXPECT_FALSE(s.message().empty());
  }
  EXPECT_EQ(table().size(), 2u);
  EXPECT_EQ(table().List().size(), 2u);
  EXPECT_FALSE(table().Lookup({kClientB, 7}).has_value())
      << "a failed bidirectional connect installs neither direction";
}

TEST_F(ImplicitTableTest, ErrorMessagesSayWhatToDo) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, false).ok());
  absl::Status s = table().Connect({kClientA, 7}, {kStorage, 81}, false);
  EXPECT_EQ(s.message(),
            "dom2:7 is already cabled to dom1:80; disconnect it first");
  EXPECT_EQ(table().Connect({9, 1}, {kStorage, 80}, false).message(),
            "source domain 9 does not exist");
}

TEST_F(ImplicitTableTest, ParentDestinationsAndDownwardEntries) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, kParent5, true).ok());
  EXPECT_EQ(table().Lookup({kClientA, 7}), kParent5);
  EXPECT_EQ(table().Lookup(kParent5), (Endpoint{kClientA, 7}));
  std::vector<Cable> cables = table().List(kClientA);
  EXPECT_EQ(cables.size(), 2u);
}

TEST_F(ImplicitTableTest, DisconnectOneOrBothDirections) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, true).ok());
  auto removed = table().Disconnect({kClientA, 7}, /*bidirectional=*/false);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 1u);
  EXPECT_TRUE(table().Lookup({kStorage, 80}).has_value());
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, false).ok());
  removed = table().Disconnect({kStorage, 80}, /*bidirectional=*/true);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 2u);
  EXPECT_EQ(table().size(), 0u);
  EXPECT_EQ(table().Disconnect({kStorage, 80}, true).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ImplicitTableTest,
       BidirectionalDisconnectLeavesAReverseThatPointsElsewhere) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, false).ok());
  ASSERT_TRUE(table().Connect({kStorage, 80}, {kClientB, 7}, false).ok());
  auto removed = table().Disconnect({kClientA, 7}, /*bidirectional=*/true);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 1u);
  EXPECT_EQ(table().Lookup({kStorage, 80}), (Endpoint{kClientB, 7}));
}

TEST_F(ImplicitTableTest, ListFiltersByEitherEnd) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, false).ok());
  ASSERT_TRUE(table().Connect({kClientB, 7}, {kClientA, 9}, false).ok());
  EXPECT_EQ(table().List().size(), 2u);
  EXPECT_EQ(table().List(kStorage).size(), 1u);
  EXPECT_EQ(table().List(kClientA).size(), 2u);
  EXPECT_EQ(table().List(kClientB).size(), 1u);
}

TEST_F(ImplicitTableTest, EntriesDieWithEitherEndsDomain) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, true).ok());
  ASSERT_TRUE(table().Connect({kClientB, 7}, {kClientA, 9}, false).ok());
  ASSERT_TRUE(world_.hv->DestroyDomain(kClientA).ok());
  // From clientA, to clientA: all gone; nothing else.
  EXPECT_TRUE(table().List().empty());
  EXPECT_EQ(table().size(), 0u);
}

TEST_F(ImplicitTableTest, ReusedDomidInheritsNothing) {
  ASSERT_TRUE(table().Connect({kClientA, 7}, {kStorage, 80}, false).ok());
  ASSERT_TRUE(world_.hv->DestroyDomain(kClientA).ok());
  world_.AddDomain(kClientA);
  EXPECT_FALSE(table().Lookup({kClientA, 7}).has_value());
  EXPECT_TRUE(table().Connect({kClientA, 7}, {kStorage, 81}, false).ok())
      << "the port is free for the new domain";
}

TEST_F(ImplicitTableTest, GrowsPastItsInitialCapacityAndShrinksBack) {
  for (uint32_t port = 0; port < 5000; ++port) {
    ASSERT_TRUE(
        table().Connect({kClientA, port}, {kStorage, port}, false).ok());
  }
  for (uint32_t port = 0; port < 5000; port += 2) {
    ASSERT_TRUE(table().Disconnect({kClientA, port}, false).ok());
  }
  for (uint32_t port = 0; port < 5000; ++port) {
    auto to = table().Lookup({kClientA, port});
    if (port % 2 == 0) {
      EXPECT_FALSE(to.has_value()) << port;
    } else {
      ASSERT_TRUE(to.has_value()) << port;
      EXPECT_EQ(to->port, port);
    }
  }
  EXPECT_EQ(table().size(), 2500u);
}

TEST_F(ImplicitTableTest, ACableWithinOneDomainCountsBothEntriesAgainstItsLimit) {
  // One below the per-domain limit: a one-way cable fits, but a two-way
  // cable between two ports of the same domain adds two entries to it.
  const uint32_t limit = implicit_dest::ImplicitTable::kMaxEntriesPerDomain;
  for (uint32_t port = 0; port < limit - 1; ++port) {
    ASSERT_TRUE(
        table().Connect({kClientA, port}, {kStorage, 1}, false).ok());
  }
  const absl::Status both =
      table().Connect({kClientA, limit}, {kClientA, limit + 1}, true);
  EXPECT_EQ(both.code(), absl::StatusCode::kResourceExhausted) << both;
  EXPECT_FALSE(table().Lookup({kClientA, limit}).has_value());
  EXPECT_TRUE(
      table().Connect({kClientA, limit}, {kClientA, limit + 1}, false).ok());
  EXPECT_EQ(table().size(), limit);
}

}  // namespace
}  // namespace argo::testing
