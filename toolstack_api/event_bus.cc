#include "toolstack_api/event_bus.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace argo::toolstack {

Subscription::~Subscription() { bus_->Unsubscribe(this); }

bool Subscription::Wants(const v1::Event& e, absl::Span<const domid_t> domains,
                         bool everyone) const {
  if (!filter_.kinds.empty() &&
      std::find(filter_.kinds.begin(), filter_.kinds.end(), e.kind()) ==
          filter_.kinds.end()) {
    return false;
  }
  if (filter_.domain.has_value() && !everyone &&
      std::find(domains.begin(), domains.end(), *filter_.domain) ==
          domains.end()) {
    return false;
  }
  return true;
}

Subscription::Wait Subscription::Next(absl::Duration timeout, v1::Event* out) {
  bus_->PublishDue();
  MutexLock l(&bus_->mu_);
  auto ready = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return !queue_.empty() || overflowed_ || bus_->closed_;
  };
  if (!ready()) {
    bus_->cv_.wait_for(bus_->mu_, absl::ToChronoNanoseconds(timeout), ready);
  }
  // Deliver what was queued before reporting the end.
  if (!queue_.empty() && !overflowed_) {
    *out = std::move(queue_.front());
    queue_.pop_front();
    return Wait::kEvent;
  }
  if (overflowed_) return Wait::kOverflowed;
  if (bus_->closed_) return Wait::kClosed;
  return Wait::kIdle;
}

uint64_t Subscription::dropped() const {
  MutexLock l(&bus_->mu_);
  return dropped_;
}

EventBus::~EventBus() {
  MutexLock l(&mu_);
  ABSL_ASSERT(subscribers_.empty());
}

void EventBus::SetClock(Clock clock) {
  MutexLock l(&mu_);
  clock_ = std::move(clock);
}

absl::StatusOr<std::unique_ptr<Subscription>> EventBus::Subscribe(
    EventFilter filter) {
  MutexLock l(&mu_);
  if (closed_) return absl::UnavailableError("the daemon is shutting down");
  if (subscribers_.size() >= kMaxSubscribers) {
    return absl::ResourceExhaustedError(
        absl::StrCat("already ", kMaxSubscribers,
                     " watchers (the limit); close one and retry"));
  }
  std::unique_ptr<Subscription> s(new Subscription(this, std::move(filter)));
  subscribers_.push_back(s.get());
  return s;
}

void EventBus::Unsubscribe(Subscription* s) {
  MutexLock l(&mu_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), s),
                     subscribers_.end());
}

bool EventBus::DeliverLocked(const v1::Event& event,
                             absl::Span<const domid_t> domains, bool everyone) {
  bool queued = false;
  for (Subscription* s : subscribers_) {
    if (!s->Wants(event, domains, everyone)) continue;
    if (s->overflowed_ || s->queue_.size() >= kQueueCapacity) {
      // Bounded: the slow watcher loses its stream, not the daemon memory.
      if (!s->overflowed_) s->dropped_ += s->queue_.size();
      s->overflowed_ = true;
      s->queue_.clear();
      ++s->dropped_;
    } else {
      s->queue_.push_back(event);
    }
    queued = true;
  }
  return queued;
}

bool EventBus::DeliverLocked(const std::vector<FloodSummary>& summaries) {
  bool queued = false;
  for (const FloodSummary& s : summaries) {
    queued |= DeliverLocked(s.event, s.domains, s.everyone);
  }
  return queued;
}

void EventBus::PublishDue() {
  bool queued = false;
  {
    MutexLock l(&mu_);
    std::vector<FloodSummary> due;
    limiter_.TakeDue(clock_(), &due);
    queued = DeliverLocked(due);
  }
  if (queued) cv_.notify_all();
}

void EventBus::Publish(v1::Event event, absl::Span<const domid_t> domains) {
  bool queued = false;
  {
    MutexLock l(&mu_);
    const absl::Time now = clock_();
    // Summaries first: they report on what came before this event.
    std::vector<FloodSummary> summaries;
    limiter_.TakeDue(now, &summaries);
    if (event.kind() == v1::Event::DOMAIN_DESTROYED && !domains.empty()) {
      limiter_.Forget(domains[0], now, &summaries);
    }
    queued = DeliverLocked(summaries);
    if (!FloodLimiter::Limited(event.kind()) ||
        limiter_.Admit(event.kind(), domains, now)) {
      event.set_unix_nanos(absl::ToUnixNanos(now));
      queued |= DeliverLocked(event, domains, /*everyone=*/false);
    }
  }
  if (queued) cv_.notify_all();
}

void EventBus::Close() {
  {
    MutexLock l(&mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

size_t EventBus::subscribers() const {
  MutexLock l(&mu_);
  return subscribers_.size();
}

size_t EventBus::flood_sources() const {
  MutexLock l(&mu_);
  return limiter_.tracked_sources();
}

}  // namespace argo::toolstack
