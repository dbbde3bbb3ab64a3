// Page tokens of the list RPCs (pagination.h): page sizes are bounded,
// pages resume strictly after the last key returned, and every bad token
// is refused with a message, never trusted.
#include "toolstack_api/pagination.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace argo::toolstack {
namespace {

// Pages through keys 1..n (one-element keys) `size` at a time.
std::vector<std::vector<uint64_t>> PageThrough(uint64_t n, uint32_t size) {
  std::vector<std::vector<uint64_t>> pages;
  std::string token;
  do {
    auto pager = Pager::Start("ListX", "", {1000}, size, token);
    EXPECT_TRUE(pager.ok()) << pager.status();
    if (!pager.ok()) break;
    std::vector<uint64_t> page;
    for (uint64_t k = 1; k <= n; ++k) {
      const Pager::Step step = pager->Offer({k});
      if (step == Pager::Step::kFull) break;
      if (step == Pager::Step::kTake) page.push_back(k);
    }
    pages.push_back(page);
    token = pager->NextToken();
  } while (!token.empty() && pages.size() < 100);
  return pages;
}

TEST(PaginationTest, PageSizeDefaultsAndIsClamped) {
  EXPECT_EQ(Pager::Start("ListX", "", {1}, 0, "")->page_size(),
            kDefaultPageSize);
  EXPECT_EQ(Pager::Start("ListX", "", {1}, 7, "")->page_size(), 7u);
  EXPECT_EQ(Pager::Start("ListX", "", {1}, kMaxPageSize + 1, "")->page_size(),
            kMaxPageSize);
  EXPECT_EQ(Pager::Start("ListX", "", {1}, UINT32_MAX, "")->page_size(),
            kMaxPageSize);
}

TEST(PaginationTest, EveryKeyOnceAcrossPages) {
  auto pages = PageThrough(10, 3);
  ASSERT_EQ(pages.size(), 4u);
  EXPECT_EQ(pages[0], (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(pages[3], (std::vector<uint64_t>{10}));
  // A listing that ends exactly at a page's end has no further page.
  pages = PageThrough(6, 3);
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[1], (std::vector<uint64_t>{4, 5, 6}));
  pages = PageThrough(0, 3);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_TRUE(pages[0].empty());
}

TEST(PaginationTest, ResumesAfterTheLastKeyEvenIfItWentAway) {
  auto first = Pager::Start("ListX", "", {1000, 1000}, 2, "");
  ASSERT_TRUE(first.ok());
  for (uint64_t k : {1, 2, 3}) first->Offer({5, k});
  const std::string token = first->NextToken();
  ASSERT_FALSE(token.empty());
  // (5, 2) is gone and (5, 1) was returned: the next page starts at (5, 3).
  auto next = Pager::Start("ListX", "", {1000, 1000}, 2, token);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->Offer({5, 1}), Pager::Step::kSkip);
  EXPECT_EQ(next->Offer({5, 3}), Pager::Step::kTake);
  EXPECT_EQ(next->Offer({6, 0}), Pager::Step::kTake);
  EXPECT_EQ(next->Offer({7, 0}), Pager::Step::kFull);
}

TEST(PaginationTest, TheBoundTravelsInTheToken) {
  auto first = Pager::Start("GetAudit", "max=0", {UINT64_MAX}, 1, "");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->bound().has_value());
  first->set_bound(42);
  first->Offer({40});
  first->Offer({41});
  auto next =
      Pager::Start("GetAudit", "max=0", {UINT64_MAX}, 1, first->NextToken());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->bound(), uint64_t{42});
}

void ExpectBadToken(const std::string& token, const std::string& words,
                    const std::string& filter = "domain=3") {
  auto pager =
      Pager::Start("ListCables", filter, {0xFFFF, 0xFFFFFFFF}, 10, token);
  ASSERT_FALSE(pager.ok()) << "accepted token \"" << token << "\"";
  EXPECT_EQ(pager.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(pager.status().message(), "page_token"))
      << pager.status();
  EXPECT_TRUE(absl::StrContains(pager.status().message(), words))
      << pager.status();
}

TEST(PaginationTest, BadTokensAreRefusedWithAReason) {
  auto issue = [](const std::string& listing, const std::string& filter) {
    auto p = Pager::Start(listing, filter, {0xFFFF, 0xFFFFFFFF}, 1, "");
    p->Offer({1, 1});
    p->Offer({1, 2});
    return p->NextToken();
  };
  const std::string good = issue("ListCables", "domain=3");
  ASSERT_TRUE(
      Pager::Start("ListCables", "domain=3", {0xFFFF, 0xFFFFFFFF}, 10, good)
          .ok());
  ExpectBadToken("garbage!!", "not a page token of this daemon");
  ExpectBadToken(std::string(10000, 'A'), "not a page token");
  ExpectBadToken(absl::WebSafeBase64Escape("hello"), "not a page token");
  ExpectBadToken(absl::WebSafeBase64Escape("p1|ListCables|domain=3|1|"),
                 "not a page token");  // one key element, not two
  ExpectBadToken(absl::WebSafeBase64Escape("p1|ListCables|domain=3|1.x|"),
                 "not a page token");
  ExpectBadToken(absl::WebSafeBase64Escape("p1|ListCables|domain=3|70000.1|"),
                 "not a page token");  // beyond a domid
  ExpectBadToken(absl::WebSafeBase64Escape("p9|ListCables|domain=3|1.1|"),
                 "not a page token");
  ExpectBadToken(issue("ListRings", "domain=3"), "issued by ListRings");
  ExpectBadToken(good, "another request (domain=3; this one has no filter)",
                 "");
  ExpectBadToken(good, "ask for every page with the same filter", "domain=4");
}

}  // namespace
}  // namespace argo::toolstack
