// The level's event stream behind Toolstack.Watch (§6): publishers never
// block, each subscriber has a bounded queue, and the number of subscribers
// is bounded — so no watcher, however slow, makes the daemon's memory grow.
//
// A subscriber that falls `kQueueCapacity` events behind is not silently
// skipped forward: its stream ends with an overflow, and it can re-watch.
// Only a watcher that stops reading gets there: the kinds a guest can
// produce at will (ring registrations, denials) are rate limited per
// source domain before they reach any queue (flood_limiter.h), and what a
// limit holds back is reported by summary events, so one domain's flood
// does not end everyone's streams.
//
// Thread safety: every method may be called from any thread. mu_ is a leaf
// (publishers call in from hypercall paths with no other lock held); the
// clock is called under it and must not call back into the bus.
#ifndef TOOLSTACK_API_EVENT_BUS_H_
#define TOOLSTACK_API_EVENT_BUS_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "argo_core/mutex.h"
#include "argo_core/public/argo.h"
#include "toolstack_api/flood_limiter.h"
#include "toolstack_api/toolstack.pb.h"

namespace argo::toolstack {

struct EventFilter {
  std::vector<v1::Event::Kind> kinds;  // empty: all kinds
  absl::optional<domid_t> domain;      // unset: every domain
};

class EventBus;

class Subscription {
 public:
  enum class Wait { kEvent, kIdle, kOverflowed, kClosed };

  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Publishes the rate limiter's summaries that fell due, then waits up to
  // `timeout` for the next event. kIdle: none came (the caller checks for
  // cancellation and waits again — which also lets summaries out when
  // nothing else is published).
  Wait Next(absl::Duration timeout, v1::Event* out);
  // Events dropped since it overflowed.
  uint64_t dropped() const;

 private:
  friend class EventBus;
  Subscription(EventBus* bus, EventFilter filter)
      : bus_(bus), filter_(std::move(filter)) {}
  // `everyone`: the event concerns every domain (for the domain filter).
  bool Wants(const v1::Event& e, absl::Span<const domid_t> domains,
             bool everyone) const;

  EventBus* const bus_;
  const EventFilter filter_;
  // Guarded by bus_->mu_.
  std::deque<v1::Event> queue_;
  bool overflowed_ = false;
  uint64_t dropped_ = 0;
};

class EventBus {
 public:
  static constexpr size_t kMaxSubscribers = 16;
  static constexpr size_t kQueueCapacity = 1024;
  using Clock = std::function<absl::Time()>;

  // The daemon's: FloodLimits' defaults and the real clock.
  EventBus() : EventBus(FloodLimits(), [] { return absl::Now(); }) {}
  EventBus(FloodLimits limits, Clock clock)
      : clock_(std::move(clock)), limiter_(limits) {}
  ~EventBus();  // every subscription must be gone
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Replaces the clock events are stamped with and rate limits run on
  // (tests: a fake clock makes the limits deterministic). REQUIRES: nothing
  // published yet.
  void SetClock(Clock clock) ABSL_LOCKS_EXCLUDED(mu_);

  // ResourceExhausted beyond kMaxSubscribers; Unavailable once closed.
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(EventFilter filter)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Stamps the time and queues `event` for every subscriber that wants it;
  // `domains` are the domains it concerns (for the domain filter), the one
  // whose action caused it first (the rate limit's source). Events of
  // rate-limited kinds beyond their source's limit are counted instead
  // (FloodLimiter); a DOMAIN_DESTROYED first publishes the destroyed
  // domain's pending summaries and drops its limiter state.
  void Publish(v1::Event event, absl::Span<const domid_t> domains)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Ends every stream (server shutdown); later subscriptions fail.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  size_t subscribers() const ABSL_LOCKS_EXCLUDED(mu_);
  // Domains the rate limiter holds state for (bounded; for tests).
  size_t flood_sources() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class Subscription;
  void Unsubscribe(Subscription* s) ABSL_LOCKS_EXCLUDED(mu_);
  // The limiter's summaries due by now, queued.
  void PublishDue() ABSL_LOCKS_EXCLUDED(mu_);
  // Queues for every subscriber that wants it; true iff any did.
  bool DeliverLocked(const v1::Event& event, absl::Span<const domid_t> domains,
                     bool everyone) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool DeliverLocked(const std::vector<FloodSummary>& summaries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  Clock clock_ ABSL_GUARDED_BY(mu_);
  FloodLimiter limiter_ ABSL_GUARDED_BY(mu_);
  std::vector<Subscription*> subscribers_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_EVENT_BUS_H_
