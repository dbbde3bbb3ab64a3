#include "toolstack_api/capture/capture_hub.h"

#include <time.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace argo::toolstack {
namespace {

// The largest power of two <= n (n >= 1).
uint64_t FloorPow2(uint64_t n) {
  uint64_t p = 1;
  while (p <= n / 2) p *= 2;
  return p;
}

uint64_t SlotCount(uint64_t buffer_bytes, uint32_t snap_len) {
  const uint64_t per_slot = snap_len + sizeof(TapRecord) + 16;
  return std::clamp<uint64_t>(FloorPow2(std::max<uint64_t>(
                                  1, buffer_bytes / per_slot)),
                              16, 1u << 20);
}

uint64_t Rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t{hi} << 32) | lo;
}

int64_t RealtimeNanos() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The CPU says its TSC runs at a constant rate through every power state.
bool InvariantTsc() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "flags")) {
      return absl::StrContains(line, " constant_tsc") &&
             absl::StrContains(line, " nonstop_tsc");
    }
  }
  return false;
}

}  // namespace

TscClock::TscClock() : invariant_(InvariantTsc()) {
  if (!invariant_) return;
  start_ = Read();
  // A first rate over ~1 ms; every Read refines it over a longer span.
  Reference later;
  do {
    later = Read();
  } while (later.nanos - start_.nanos < 1'000'000);
  ns_per_tick_ = static_cast<double>(later.nanos - start_.nanos) /
                 static_cast<double>(later.tsc - start_.tsc);
}

uint64_t TscClock::Now() const {
  return invariant_ ? Rdtsc() : static_cast<uint64_t>(RealtimeNanos());
}

TscClock::Reference TscClock::Read() const {
  if (!invariant_) return Reference{0, RealtimeNanos()};
  // The clock reading bracketed by two TSC reads, keeping the tightest of a
  // few tries: a thread preempted between the two reads (a shared host does
  // that for milliseconds) would otherwise pair a clock with a TSC from
  // another moment and skew the rate and every stamp converted with it.
  Reference best{};
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < 8; ++i) {
    const uint64_t before = Rdtsc();
    const int64_t nanos = RealtimeNanos();
    const uint64_t width = Rdtsc() - before;
    if (width < best_width) {
      best_width = width;
      best = Reference{before + width / 2, nanos};
    }
    if (width < 2000) break;  // well under a microsecond: good enough
  }
  return best;
}

int64_t TscClock::ToNanos(uint64_t stamp, const Reference& now) const {
  if (!invariant_) return static_cast<int64_t>(stamp);
  // The rate over the whole capture so far, once that is longer than the
  // calibration; the stamp is placed back from `now`.
  double rate = ns_per_tick_;
  if (now.nanos - start_.nanos > 100'000'000 && now.tsc > start_.tsc) {
    rate = static_cast<double>(now.nanos - start_.nanos) /
           static_cast<double>(now.tsc - start_.tsc);
  }
  const double back = static_cast<double>(static_cast<int64_t>(now.tsc - stamp));
  return now.nanos - static_cast<int64_t>(back * rate);
}

bool CaptureFilter::Matches(const TapRecord& r) const {
  if (r.xen_errno == 0 ? !delivered : !refused) return false;
  if (domain && r.source.domain_id != *domain && r.ring.domain_id != *domain) {
    return false;
  }
  if (port && r.source.aport != *port && r.ring.aport != *port) return false;
  if (message_type && r.message_type != *message_type) return false;
  return true;
}

Capture::Capture(CaptureFilter filter, uint64_t buffer_bytes)
    : filter_(filter),
      slots_(SlotCount(buffer_bytes, filter.snap_len)),
      snapped_(slots_.size() * filter.snap_len),
      mask_(slots_.size() - 1) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].seq.store(i, std::memory_order_relaxed);
  }
}

void Capture::Offer(const TapRecord& record,
                    absl::Span<const MessagePart> payload) {
  uint64_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  Slot* slot;
  for (;;) {
    slot = &slots_[pos & mask_];
    const uint64_t seq = slot->seq.load(std::memory_order_acquire);
    const int64_t diff = static_cast<int64_t>(seq) - static_cast<int64_t>(pos);
    if (diff == 0) {
      // The slot is free for `pos`: claim it (or learn who did).
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1,
                                             std::memory_order_relaxed)) {
        break;
      }
    } else if (diff < 0) {
      // The reader has not freed it: full.
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
  slot->record = record;
  slot->record.unix_nanos = static_cast<int64_t>(clock_.Now());  // a stamp
  slot->snapped_len = TrafficTap::CopyPayload(
      payload, &snapped_[(pos & mask_) * filter_.snap_len], filter_.snap_len);
  slot->seq.store(pos + 1, std::memory_order_release);  // published
}

size_t Capture::Drain(std::vector<CapturedMessage>* out, size_t max) {
  const TscClock::Reference now = clock_.Read();
  size_t n = 0;
  while (n < max) {
    Slot& slot = slots_[dequeue_pos_ & mask_];
    if (slot.seq.load(std::memory_order_acquire) != dequeue_pos_ + 1) break;
    const uint8_t* bytes = &snapped_[(dequeue_pos_ & mask_) * filter_.snap_len];
    out->push_back(CapturedMessage{
        slot.record, std::vector<uint8_t>(bytes, bytes + slot.snapped_len)});
    out->back().record.unix_nanos = clock_.ToNanos(
        static_cast<uint64_t>(slot.record.unix_nanos), now);
    // Free for the producer one lap ahead.
    slot.seq.store(dequeue_pos_ + mask_ + 1, std::memory_order_release);
    ++dequeue_pos_;
    ++n;
  }
  return n;
}

absl::StatusOr<std::shared_ptr<Capture>> CaptureHub::Start(
    CaptureFilter filter, uint64_t buffer_bytes) {
  if (filter.snap_len > Capture::kMaxSnapLen) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snap length ", filter.snap_len, " exceeds ", Capture::kMaxSnapLen));
  }
  if (buffer_bytes == 0 || buffer_bytes > kMaxBufferBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "capture buffer of ", buffer_bytes, " bytes is outside 1..",
        kMaxBufferBytes));
  }
  if (!filter.delivered && !filter.refused) {
    return absl::InvalidArgumentError(
        "the filter records neither delivered nor refused messages");
  }
  MutexLock l(&mu_);
  for (int i = 0; i < kMaxCaptures; ++i) {
    if (owned_[i] != nullptr) continue;
    owned_[i] = std::make_shared<Capture>(filter, buffer_bytes);
    active_[i].store(owned_[i].get(), std::memory_order_release);
    if (i >= active_end_.load(std::memory_order_relaxed)) {
      active_end_.store(i + 1, std::memory_order_release);
    }
    hypervisor_->SetTrafficTap(this);
    return owned_[i];
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("already ", kMaxCaptures, " captures running"));
}

void CaptureHub::Stop(const std::shared_ptr<Capture>& capture) {
  MutexLock l(&mu_);
  int end = 0;
  for (int i = 0; i < kMaxCaptures; ++i) {
    if (owned_[i] == capture) {
      active_[i].store(nullptr, std::memory_order_release);
      owned_[i] = nullptr;
    }
    if (owned_[i] != nullptr) end = i + 1;
  }
  active_end_.store(end, std::memory_order_release);
  if (end == 0) hypervisor_->SetTrafficTap(nullptr);
  // Senders that loaded the capture finish under L1: after this none
  // holds it, and the caller's reference is the last one.
  hypervisor_->WaitForHypercalls();
}

void CaptureHub::OnMessage(const TapRecord& record,
                           absl::Span<const MessagePart> payload) {
  const int end = active_end_.load(std::memory_order_acquire);
  for (int i = 0; i < end; ++i) {
    Capture* capture = active_[i].load(std::memory_order_acquire);
    if (capture != nullptr && capture->filter().Matches(record)) {
      capture->Offer(record, payload);
    }
  }
}

}  // namespace argo::toolstack
