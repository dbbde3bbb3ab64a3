// The level's event stream behind Toolstack.Watch (§6): publishers never
// block, each subscriber has a bounded queue, and the number of subscribers
// is bounded — so no watcher, however slow, makes the daemon's memory grow.
//
// A subscriber that falls `kQueueCapacity` events behind is not silently
// skipped forward: its stream ends with an overflow, and it can re-watch.
//
// Thread safety: every method may be called from any thread. mu_ is a leaf
// (publishers call in from hypercall paths with no other lock held).
#ifndef TOOLSTACK_API_EVENT_BUS_H_
#define TOOLSTACK_API_EVENT_BUS_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "argo_core/mutex.h"
#include "argo_core/public/argo.h"
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

  // Waits up to `timeout` for the next event. kIdle: none came (the caller
  // checks for cancellation and waits again).
  Wait Next(absl::Duration timeout, v1::Event* out);
  // Events dropped since it overflowed.
  uint64_t dropped() const;

 private:
  friend class EventBus;
  Subscription(EventBus* bus, EventFilter filter)
      : bus_(bus), filter_(std::move(filter)) {}
  bool Wants(const v1::Event& e, absl::Span<const domid_t> domains) const;

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

  EventBus() = default;
  ~EventBus();  // every subscription must be gone
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // ResourceExhausted beyond kMaxSubscribers; Unavailable once closed.
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(EventFilter filter)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Stamps the time and queues `event` for every subscriber that wants it;
  // `domains` are the domains it concerns (for the domain filter).
  void Publish(v1::Event event, absl::Span<const domid_t> domains)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Ends every stream (server shutdown); later subscriptions fail.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  size_t subscribers() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class Subscription;
  void Unsubscribe(Subscription* s) ABSL_LOCKS_EXCLUDED(mu_);

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::vector<Subscription*> subscribers_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_EVENT_BUS_H_
