// Pages of the list RPCs (ListDomains, ListCables, ListRings, GetAudit), so
// no reply grows with the level: at most kMaxPageSize items a reply, the
// rest behind an opaque next_page_token.
//
// A listing is ordered by a key of small numbers (a domid; a cable's source
// endpoint; a ring's owner, port and partner; an audit sequence) and a page
// token is the key of the last item a page returned, bound to the listing
// and to the request's filter. The next page resumes strictly after that
// key, so items that stay put are returned exactly once across pages even
// while others come and go, and the token never holds a pointer or an
// offset into state that may have changed.
//
// Tokens are not secret and need no signature: a forged one can only name
// a position the client could have asked for. They are validated, and a
// bad one is InvalidArgument saying what is wrong with it.
//
// Thread safety: a Pager is one request's; not shared.
#ifndef TOOLSTACK_API_PAGINATION_H_
#define TOOLSTACK_API_PAGINATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace argo::toolstack {

// page_size 0 means kDefaultPageSize; more than kMaxPageSize is served as
// kMaxPageSize (clamped, as AIP-158 asks: a client asking for "as many as
// you will give" gets a full page, not an error). 1000 of the largest item
// (a Domain with a 64-character name and label, about 200 bytes) stay far
// below gRPC's 4 MiB default receive limit.
inline constexpr uint32_t kDefaultPageSize = 500;
inline constexpr uint32_t kMaxPageSize = 1000;

using PageKey = std::vector<uint64_t>;

class Pager {
 public:
  enum class Step { kSkip, kTake, kFull };

  // `listing`: the RPC ("ListCables"); `filter`: the request's other
  // fields as text ("domain=3", "" for none), which every later page must
  // repeat; `key_max`: the largest valid value of each key element.
  // InvalidArgument for a token that is malformed, out of range, or issued
  // for another listing or filter.
  static absl::StatusOr<Pager> Start(absl::string_view listing,
                                     std::string filter, PageKey key_max,
                                     uint32_t page_size,
                                     absl::string_view page_token);

  // Offer the listing's items in increasing key order. kSkip: before this
  // page (already returned); kTake: add it to the reply; kFull: the page is
  // full and this item starts the next one — stop offering.
  Step Offer(const PageKey& key);
  // "" if the listing ended within this page, else the token of the next.
  std::string NextToken() const;

  // A listing's end as of its first page (GetAudit pins the newest
  // sequence so a flood of new denials cannot keep a reader paging
  // forever): unset on the first page, carried in every token after.
  absl::optional<uint64_t> bound() const { return bound_; }
  void set_bound(uint64_t bound) { bound_ = bound; }

  uint32_t page_size() const { return page_size_; }

 private:
  Pager(std::string listing, std::string filter, uint32_t page_size)
      : listing_(std::move(listing)),
        filter_(std::move(filter)),
        page_size_(page_size) {}

  std::string listing_;
  std::string filter_;
  uint32_t page_size_;
  absl::optional<PageKey> after_;  // from the token: resume after this key
  absl::optional<uint64_t> bound_;
  PageKey last_taken_;
  uint32_t taken_ = 0;
  bool more_ = false;
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_PAGINATION_H_
