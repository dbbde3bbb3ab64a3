#include "toolstack_api/pagination.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace argo::toolstack {
namespace {

// The token, before base64: "p1|LISTING|FILTER|K1.K2...|BOUND" (BOUND may
// be empty). Server-made listing and filter texts contain no '|'.
constexpr absl::string_view kVersion = "p1";
// Far above any token this daemon makes; refuses megabyte garbage early.
constexpr size_t kMaxTokenBytes = 512;

absl::Status Malformed() {
  return absl::InvalidArgumentError(
      "page_token: not a page token of this daemon (pass a reply's "
      "next_page_token unchanged, or \"\" for the first page)");
}

}  // namespace

absl::StatusOr<Pager> Pager::Start(absl::string_view listing,
                                   std::string filter, PageKey key_max,
                                   uint32_t page_size,
                                   absl::string_view page_token) {
  const uint32_t size = page_size == 0             ? kDefaultPageSize
                        : page_size > kMaxPageSize ? kMaxPageSize
                                                   : page_size;
  Pager pager(std::string(listing), std::move(filter), size);
  if (page_token.empty()) return pager;
  std::string raw;
  if (page_token.size() > kMaxTokenBytes ||
      !absl::WebSafeBase64Unescape(page_token, &raw)) {
    return Malformed();
  }
  std::vector<absl::string_view> parts = absl::StrSplit(raw, '|');
  if (parts.size() != 5 || parts[0] != kVersion) return Malformed();
  if (parts[1] != pager.listing_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token: was issued by ", parts[1], ", not ", pager.listing_));
  }
  if (parts[2] != pager.filter_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token: was issued for another request (",
        parts[2].empty() ? "no filter" : parts[2], "; this one has ",
        pager.filter_.empty() ? std::string("no filter") : pager.filter_,
        "): ask for every page with the same filter"));
  }
  std::vector<absl::string_view> fields = absl::StrSplit(parts[3], '.');
  if (fields.size() != key_max.size()) return Malformed();
  PageKey after;
  for (size_t i = 0; i < fields.size(); ++i) {
    uint64_t value = 0;
    if (!absl::SimpleAtoi(fields[i], &value) || value > key_max[i]) {
      return Malformed();
    }
    after.push_back(value);
  }
  pager.after_ = std::move(after);
  if (!parts[4].empty()) {
    uint64_t bound = 0;
    if (!absl::SimpleAtoi(parts[4], &bound)) return Malformed();
    pager.bound_ = bound;
  }
  return pager;
}

Pager::Step Pager::Offer(const PageKey& key) {
  if (after_.has_value() && key <= *after_) return Step::kSkip;
  if (taken_ == page_size_) {
    more_ = true;
    return Step::kFull;
  }
  ++taken_;
  last_taken_ = key;
  return Step::kTake;
}

std::string Pager::NextToken() const {
  if (!more_) return "";
  const std::string raw =
      absl::StrCat(kVersion, "|", listing_, "|", filter_, "|",
                   absl::StrJoin(last_taken_, "."), "|",
                   bound_.has_value() ? absl::StrCat(*bound_) : std::string());
  return absl::WebSafeBase64Escape(raw);
}

}  // namespace argo::toolstack
