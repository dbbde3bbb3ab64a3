// Per-domain rate limits on the event kinds a guest can produce at will
// (DESIGN §10: register/unregister loops, floods of denied sends), so one
// domain's flood cannot fill every watcher's queue and end their streams.
//
// Each (source domain, kind) of RING_REGISTERED, RING_UNREGISTERED,
// ACCESS_DENIED and — a guest process can attach and crash in a loop —
// GUEST_ATTACHED, GUEST_DETACHED and DOMAIN_CRASHED has a token bucket: `rate_per_second` events a second with
// bursts of `burst`. An event that finds its bucket empty is not published
// but counted; `summary_interval` after the first such event, one summary
// event of the same kind reports the count ("suppressed 12345
// ring_registered events from dom 3 in the last 1.0 s", Event.suppressed =
// 12345), and the next suppressed event opens a new window. So a watcher
// keeping up sees at most about rate + 1/interval events a second per
// flooding (domain, kind), and learns exactly how many it did not see.
//
// The source is the first domain an event concerns (the platform publishes
// the ring's owner, the denial's source first). A summary concerns the
// source and the other domains the suppressed events concerned (up to
// kMaxSummaryDomains; past that, every domain), so a watcher filtering on
// a flood's target still learns of it.
//
// Bounded state: at most `max_tracked_sources` domains have buckets; a
// domain whose buckets are full and windows closed holds nothing worth
// keeping and is evicted when room is needed, and Forget drops a destroyed
// domain. If every tracked domain is busy, further sources share one
// "untracked" set of buckets — still limited, never unbounded.
//
// Thread safety: none of its own; the event bus calls it under its lock.
// Time comes from the caller (the bus's injectable clock).
#ifndef TOOLSTACK_API_FLOOD_LIMITER_H_
#define TOOLSTACK_API_FLOOD_LIMITER_H_

#include <array>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "argo_core/public/argo.h"
#include "toolstack_api/toolstack.pb.h"

namespace argo::toolstack {

struct FloodLimits {
  double rate_per_second = 50;
  uint32_t burst = 100;
  absl::Duration summary_interval = absl::Seconds(1);
  size_t max_tracked_sources = 1024;
};

// A summary event and the domains it concerns (all, if `everyone`).
struct FloodSummary {
  v1::Event event;
  std::vector<domid_t> domains;
  bool everyone = false;
};

class FloodLimiter {
 public:
  static constexpr size_t kMaxSummaryDomains = 8;

  explicit FloodLimiter(FloodLimits limits) : limits_(limits) {}

  // True iff events of `kind` are rate limited.
  static bool Limited(v1::Event::Kind kind);

  // True iff the event (of a Limited kind, concerning `domains`, source
  // first) may be published at `now`; otherwise it is counted in its
  // source's open window.
  bool Admit(v1::Event::Kind kind, absl::Span<const domid_t> domains,
             absl::Time now);
  // Appends the summaries of the windows that closed by `now`, oldest
  // first.
  void TakeDue(absl::Time now, std::vector<FloodSummary>* out);
  // `source` is gone: appends the summaries of its open windows now and
  // drops its state.
  void Forget(domid_t source, absl::Time now, std::vector<FloodSummary>* out);

  size_t tracked_sources() const { return sources_.size(); }
  const FloodLimits& limits() const { return limits_; }

 private:
  static constexpr size_t kKinds = 6;
  // A key past every domid: the buckets shared by untracked sources.
  static constexpr uint32_t kUntracked = 0x10000;

  struct Bucket {
    double tokens = 0;
    absl::Time refilled;
    uint64_t suppressed = 0;  // in the open window; 0: no window open
    absl::Time window_start;
    // Other domains the window's events concerned.
    std::array<domid_t, kMaxSummaryDomains> concerned{};
    size_t n_concerned = 0;
    bool everyone = false;
  };
  struct Source {
    std::array<Bucket, kKinds> buckets;
  };
  // When a window closes: one entry per open window, in opening order.
  struct Due {
    absl::Time at;
    uint32_t source;
    size_t kind;
  };

  // The buckets of `source` (created full), or the untracked ones when
  // no room can be made; with the key they go by.
  std::pair<uint32_t, Source*> SourceFor(uint32_t source, absl::Time now);
  Source* Find(uint32_t source);
  void Refill(Bucket& b, absl::Time now) const;
  bool Idle(Source& s, absl::Time now) const;
  FloodSummary Close(uint32_t source, size_t kind, Bucket& b, absl::Time now);

  const FloodLimits limits_;
  absl::flat_hash_map<domid_t, Source> sources_;  // <= max_tracked_sources
  Source untracked_;
  bool untracked_init_ = false;
  absl::Time last_sweep_ = absl::InfinitePast();
  std::deque<Due> due_;  // <= kKinds * (max_tracked_sources + 1)
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_FLOOD_LIMITER_H_
