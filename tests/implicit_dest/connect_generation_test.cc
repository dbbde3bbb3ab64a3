// Connect racing a domain's destroy (issue 8, item A), made deterministic:
// a scripted DomainDirectory answers DomainGeneration differently on each
// call, as if the domain were destroyed (and perhaps re-created with the
// same domid) between two of the table's reads. Whatever the script, the
// table either refuses the cable or installs it with the generation it
// checked -- never 0, never the next domain's, never a mix -- and asks
// once per domain, so there is no second answer to disagree with.
#include <cstdint>
#include <deque>
#include <map>

#include "absl/status/statusor.h"
#include "argo_core/public/argo.h"
#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"
#include "implicit_dest/implicit_table.h"

namespace argo::implicit_dest {
namespace {

constexpr domid_t kA = 1, kB = 2;
constexpr uint32_t kGone = 0;  // script entry: "no such domain"

// Answers DomainGeneration from a per-domid script, one entry per call;
// the last entry repeats. Counts the calls.
class ScriptedDirectory final : public DomainDirectory {
 public:
  void Script(domid_t domid, std::deque<uint32_t> answers) {
    scripts_[domid] = std::move(answers);
  }
  int calls(domid_t domid) const {
    auto it = calls_.find(domid);
    return it == calls_.end() ? 0 : it->second;
  }
  void ResetCalls() { calls_.clear(); }

  absl::StatusOr<uint32_t> DomainGeneration(domid_t domid) override {
    ++calls_[domid];
    std::deque<uint32_t>& script = scripts_[domid];
    uint32_t answer = script.empty() ? kGone : script.front();
    if (script.size() > 1) script.pop_front();
    if (answer == kGone) return absl::NotFoundError("no such domain");
    return answer;
  }
  void WaitForHypercalls() override {}

 private:
  std::map<domid_t, std::deque<uint32_t>> scripts_;
  std::map<domid_t, int> calls_;
};

class ConnectGenerationTest : public ::testing::Test {
 protected:
  void SetUp() override { table_.Bind(&directory_); }

  // The entry from (src, port) as a send from `src_generation` sees it.
  ImplicitDestination Resolve(domid_t src, uint32_t src_generation,
                              xen_argo_port_t port) {
    return table_.Resolve(src, src_generation, port);
  }

  ScriptedDirectory directory_;
  ImplicitTable table_;
};

// dom2 is checked as generation 5, then destroyed and re-created as 6.
TEST_F(ConnectGenerationTest, DestinationRecreatedMidConnectKeepsCheckedGen) {
  directory_.Script(kA, {3});
  directory_.Script(kB, {5, 6});
  ASSERT_TRUE(table_.Connect({kA, 7}, {kB, 80}, false).ok());
  const ImplicitDestination d = Resolve(kA, 3, 7);
  ASSERT_EQ(d.rc, 0);
  EXPECT_EQ(d.domid, kB);
  EXPECT_EQ(d.port, 80u);
  EXPECT_EQ(d.domain_generation, 5u)
      << "the cable must lead to the domain that was checked, not to the one "
         "re-created with its domid";
  EXPECT_EQ(directory_.calls(kB), 1);
}

// dom2 is checked as generation 5, then destroyed (not re-created).
TEST_F(ConnectGenerationTest, DestinationDestroyedMidConnectNeverGivesGenZero) {
  directory_.Script(kA, {3});
  directory_.Script(kB, {5, kGone});
  ASSERT_TRUE(table_.Connect({kA, 7}, {kB, 80}, false).ok());
  const ImplicitDestination d = Resolve(kA, 3, 7);
  ASSERT_EQ(d.rc, 0);
  EXPECT_EQ(d.domain_generation, 5u)
      << "generation 0 is no domain's: OnDomainDestroyed(2, 5) would never "
         "remove such an entry";
  EXPECT_EQ(directory_.calls(kB), 1);
}

// dom1 (the source) is checked as 3, then re-created as 4: the entry must
// belong to generation 3 (whose destroy then drops it), not be filed under
// the new domain.
TEST_F(ConnectGenerationTest, SourceRecreatedMidConnectFilesUnderCheckedGen) {
  directory_.Script(kA, {3, 4});
  directory_.Script(kB, {5});
  ASSERT_TRUE(table_.Connect({kA, 7}, {kB, 80}, false).ok());
  EXPECT_EQ(Resolve(kA, 3, 7).rc, 0);
  EXPECT_EQ(Resolve(kA, 4, 7).rc, -XEN_ECONNREFUSED)
      << "the re-created domain inherited a cable it was never given";
  EXPECT_EQ(directory_.calls(kA), 1);
}

// Both ends change between reads; both directions carry the checked pair.
TEST_F(ConnectGenerationTest, BidirectionalUsesOneReadOfEachEnd) {
  directory_.Script(kA, {3, kGone, 4});
  directory_.Script(kB, {5, 6, kGone});
  ASSERT_TRUE(table_.Connect({kA, 7}, {kB, 80}, true).ok());
  const ImplicitDestination forward = Resolve(kA, 3, 7);
  ASSERT_EQ(forward.rc, 0);
  EXPECT_EQ(forward.domain_generation, 5u);
  const ImplicitDestination back = Resolve(kB, 5, 80);
  ASSERT_EQ(back.rc, 0);
  EXPECT_EQ(back.domid, kA);
  EXPECT_EQ(back.domain_generation, 3u);
  EXPECT_EQ(directory_.calls(kA), 1);
  EXPECT_EQ(directory_.calls(kB), 1);
  EXPECT_EQ(table_.size(), 2u);
}

// A cable between two ports of one domain reads that domain once: its two
// ends cannot end up in different generations.
TEST_F(ConnectGenerationTest, SameDomainCableReadsItsDomainOnce) {
  directory_.Script(kA, {3, 4});
  ASSERT_TRUE(table_.Connect({kA, 1}, {kA, 2}, true).ok());
  for (xen_argo_port_t port : {1u, 2u}) {
    const ImplicitDestination d = Resolve(kA, 3, port);
    ASSERT_EQ(d.rc, 0) << "port " << port;
    EXPECT_EQ(d.domain_generation, 3u) << "port " << port;
  }
  EXPECT_EQ(directory_.calls(kA), 1);
}

// Destroyed before Connect looked: refused, and nothing installed.
TEST_F(ConnectGenerationTest, DestroyedBeforeTheCheckIsRefusedWhole) {
  directory_.Script(kA, {3});
  directory_.Script(kB, {kGone, 6});
  EXPECT_EQ(table_.Connect({kA, 7}, {kB, 80}, true).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(Resolve(kA, 3, 7).rc, -XEN_ECONNREFUSED);
}

// The entry made for generation 5 is what its destroy removes; a later
// cable to the re-created domain (6) is a new, separate one.
TEST_F(ConnectGenerationTest, CheckedGenerationIsWhatDestroyRemoves) {
  directory_.Script(kA, {3});
  directory_.Script(kB, {5, 6});
  ASSERT_TRUE(table_.Connect({kA, 7}, {kB, 80}, false).ok());
  table_.OnDomainDestroyed(kB, 5);
  EXPECT_EQ(table_.size(), 0u) << "an entry outlived its destination";
  EXPECT_EQ(Resolve(kA, 3, 7).rc, -XEN_ECONNREFUSED);
  directory_.ResetCalls();
  ASSERT_TRUE(table_.Connect({kA, 7}, {kB, 80}, false).ok());
  EXPECT_EQ(Resolve(kA, 3, 7).domain_generation, 6u);
}

}  // namespace
}  // namespace argo::implicit_dest
