#include "toolstack_api/flood_limiter.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace argo::toolstack {
namespace {

constexpr v1::Event::Kind kLimitedKinds[] = {
    v1::Event::RING_REGISTERED, v1::Event::RING_UNREGISTERED,
    v1::Event::ACCESS_DENIED,   v1::Event::GUEST_ATTACHED,
    v1::Event::GUEST_DETACHED,  v1::Event::DOMAIN_CRASHED};

size_t KindIndex(v1::Event::Kind kind) {
  return static_cast<size_t>(
      std::find(std::begin(kLimitedKinds), std::end(kLimitedKinds), kind) -
      std::begin(kLimitedKinds));
}

}  // namespace

bool FloodLimiter::Limited(v1::Event::Kind kind) {
  return KindIndex(kind) < kKinds;
}

void FloodLimiter::Refill(Bucket& b, absl::Time now) const {
  // A clock that steps back refills nothing (and never drains).
  if (now > b.refilled) {
    b.tokens = std::min<double>(
        limits_.burst, b.tokens + limits_.rate_per_second *
                                      absl::ToDoubleSeconds(now - b.refilled));
    b.refilled = now;
  }
}

bool FloodLimiter::Idle(Source& s, absl::Time now) const {
  for (Bucket& b : s.buckets) {
    Refill(b, now);
    if (b.suppressed != 0 || b.tokens < limits_.burst) return false;
  }
  return true;
}

FloodLimiter::Source* FloodLimiter::Find(uint32_t source) {
  if (source == kUntracked) return &untracked_;
  auto it = sources_.find(static_cast<domid_t>(source));
  return it == sources_.end() ? nullptr : &it->second;
}

std::pair<uint32_t, FloodLimiter::Source*> FloodLimiter::SourceFor(
    uint32_t source, absl::Time now) {
  auto fresh = [this, now](Source& s) {
    for (Bucket& b : s.buckets) {
      b.tokens = limits_.burst;
      b.refilled = now;
    }
  };
  if (source != kUntracked) {
    auto it = sources_.find(static_cast<domid_t>(source));
    if (it != sources_.end()) return {source, &it->second};
    // Full: evict the idle (they hold nothing a fresh entry would not),
    // at most once an interval so a stream of new sources costs O(1) each.
    if (sources_.size() >= limits_.max_tracked_sources &&
        now - last_sweep_ >= limits_.summary_interval) {
      last_sweep_ = now;
      for (auto i = sources_.begin(); i != sources_.end();) {
        if (Idle(i->second, now)) {
          sources_.erase(i++);
        } else {
          ++i;
        }
      }
    }
    if (sources_.size() < limits_.max_tracked_sources) {
      Source& s = sources_[static_cast<domid_t>(source)];
      fresh(s);
      return {source, &s};
    }
  }
  if (!untracked_init_) {
    fresh(untracked_);
    untracked_init_ = true;
  }
  return {kUntracked, &untracked_};
}

bool FloodLimiter::Admit(v1::Event::Kind kind,
                         absl::Span<const domid_t> domains, absl::Time now) {
  const size_t k = KindIndex(kind);
  if (k >= kKinds) return true;
  auto [key, source] =
      SourceFor(domains.empty() ? kUntracked : domains[0], now);
  Bucket& b = source->buckets[k];
  Refill(b, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  if (b.suppressed == 0) {
    b.window_start = now;
    due_.push_back(Due{now + limits_.summary_interval, key, k});
  }
  ++b.suppressed;
  // Untracked summaries go to every watcher; others name whom they concern.
  for (size_t i = 1; i < domains.size() && !b.everyone; ++i) {
    const domid_t d = domains[i];
    const auto end = b.concerned.begin() + b.n_concerned;
    if (d == domains[0] || std::find(b.concerned.begin(), end, d) != end) {
      continue;
    }
    if (b.n_concerned == kMaxSummaryDomains) {
      b.everyone = true;
    } else {
      b.concerned[b.n_concerned++] = d;
    }
  }
  return false;
}

FloodSummary FloodLimiter::Close(uint32_t source, size_t kind, Bucket& b,
                                 absl::Time now) {
  FloodSummary s;
  const v1::Event::Kind k = kLimitedKinds[kind];
  s.event.set_kind(k);
  s.event.set_unix_nanos(absl::ToUnixNanos(now));
  s.event.set_suppressed(b.suppressed);
  const std::string from =
      source == kUntracked
          ? absl::StrCat("domains past the ", limits_.max_tracked_sources,
                         " tracked")
          : absl::StrCat("dom ", source);
  s.event.set_summary(absl::StrFormat(
      "suppressed %d %s events from %s in the last %.1f s (limit %g/s, "
      "burst %d)",
      b.suppressed, absl::AsciiStrToLower(v1::Event::Kind_Name(k)), from,
      absl::ToDoubleSeconds(now - b.window_start), limits_.rate_per_second,
      limits_.burst));
  s.everyone = source == kUntracked || b.everyone;
  if (source != kUntracked) {
    s.domains.push_back(static_cast<domid_t>(source));
    s.domains.insert(s.domains.end(), b.concerned.begin(),
                     b.concerned.begin() + b.n_concerned);
  }
  b.suppressed = 0;
  b.n_concerned = 0;
  b.everyone = false;
  return s;
}

void FloodLimiter::TakeDue(absl::Time now, std::vector<FloodSummary>* out) {
  while (!due_.empty() && due_.front().at <= now) {
    const Due d = due_.front();
    due_.pop_front();
    Source* s = Find(d.source);
    // Every open window has its entry (Forget removes a source's), so
    // this finds it; a window already empty has nothing to report.
    if (s == nullptr || s->buckets[d.kind].suppressed == 0) continue;
    out->push_back(Close(d.source, d.kind, s->buckets[d.kind], now));
  }
}

void FloodLimiter::Forget(domid_t source, absl::Time now,
                          std::vector<FloodSummary>* out) {
  auto it = sources_.find(source);
  if (it == sources_.end()) return;
  for (size_t k = 0; k < kKinds; ++k) {
    Bucket& b = it->second.buckets[k];
    if (b.suppressed != 0) out->push_back(Close(source, k, b, now));
  }
  sources_.erase(it);
  due_.erase(
      std::remove_if(due_.begin(), due_.end(),
                     [source](const Due& d) { return d.source == source; }),
      due_.end());
}

}  // namespace argo::toolstack
