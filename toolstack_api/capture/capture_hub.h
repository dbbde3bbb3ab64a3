// Live traffic captures of one level (issue 11, docs/capture.md): the
// hypervisor's TrafficTap while at least one capture runs, fanning each
// message out to the captures whose filter matches.
//
// A sender never waits: each capture is a fixed-size lock-free queue of
// slots (bounded MPSC, Vyukov's sequence-numbered ring); a message that
// finds it full is counted as dropped. Memory per capture is fixed at
// start; at most kMaxCaptures run at once.
#ifndef TOOLSTACK_API_CAPTURE_CAPTURE_HUB_H_
#define TOOLSTACK_API_CAPTURE_CAPTURE_HUB_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "argo_core/hypervisor.h"
#include "argo_core/mutex.h"
#include "argo_core/traffic_tap.h"

namespace argo::toolstack {

struct CaptureFilter {
  absl::optional<domid_t> domain;   // the sender or the ring's owner
  absl::optional<uint32_t> port;    // the source port or the ring's port
  absl::optional<uint32_t> message_type;
  bool delivered = true;  // record delivered messages
  bool refused = false;   // record refused sends
  uint32_t snap_len = 256;

  bool Matches(const TapRecord& record) const;
};

// Timestamps for captured messages: the TSC (one instruction, ~9 ns here)
// when it is invariant, converted to CLOCK_REALTIME when the capture is
// drained, against a clock reading taken then (so a record is at most one
// drain period from its reference point); clock_gettime (~20 ns) where the
// TSC is not to be trusted.
class TscClock {
 public:
  TscClock();
  // A stamp now: TSC ticks, or nanoseconds without an invariant TSC.
  uint64_t Now() const;
  // Converts the stamps taken since construction; call with a fresh
  // reference (reads the clock and the TSC together).
  struct Reference {
    uint64_t tsc;
    int64_t nanos;
  };
  Reference Read() const;
  int64_t ToNanos(uint64_t stamp, const Reference& now) const;

 private:
  bool invariant_ = false;
  Reference start_{};
  double ns_per_tick_ = 0;  // measured at construction, refined by Read
};

struct CapturedMessage {
  TapRecord record;
  std::vector<uint8_t> snapped;
};

class Capture {
 public:
  static constexpr uint32_t kMaxSnapLen = 65535;

  Capture(CaptureFilter filter, uint64_t buffer_bytes);
  const CaptureFilter& filter() const { return filter_; }
  uint32_t slots() const { return static_cast<uint32_t>(slots_.size()); }

  // Any thread: queues the message or counts it dropped. Never blocks.
  void Offer(const TapRecord& record, absl::Span<const MessagePart> payload);
  // The one reader: moves up to `max` queued messages to *out.
  size_t Drain(std::vector<CapturedMessage>* out, size_t max);
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  // One cache line each: a sender writes one line for its record.
  struct alignas(64) Slot {
    std::atomic<uint64_t> seq;
    TapRecord record;
    uint32_t snapped_len = 0;
  };

  const CaptureFilter filter_;
  const TscClock clock_;
  std::vector<Slot> slots_;          // a power of two of them
  std::vector<uint8_t> snapped_;     // slots * snap_len payload bytes
  const uint64_t mask_;
  alignas(64) std::atomic<uint64_t> enqueue_pos_{0};
  alignas(64) uint64_t dequeue_pos_ = 0;  // the reader's only
  std::atomic<uint64_t> dropped_{0};
};

class CaptureHub final : public TrafficTap {
 public:
  static constexpr int kMaxCaptures = 8;
  static constexpr uint64_t kMaxBufferBytes = uint64_t{64} << 20;

  // The hub outlives `hypervisor` (which may report into it until it is
  // gone), so the hub never touches it after that.
  explicit CaptureHub(Hypervisor* hypervisor) : hypervisor_(hypervisor) {}

  // ResourceExhausted beyond kMaxCaptures; InvalidArgument for a snap
  // length or buffer out of range.
  absl::StatusOr<std::shared_ptr<Capture>> Start(CaptureFilter filter,
                                                 uint64_t buffer_bytes)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Stops it: once this returns no sender touches it.
  void Stop(const std::shared_ptr<Capture>& capture) ABSL_LOCKS_EXCLUDED(mu_);

  void OnMessage(const TapRecord& record,
                 absl::Span<const MessagePart> payload) override;

 private:
  Hypervisor* const hypervisor_;
  // Senders read the slots without a lock; mu_ serialises Start/Stop.
  // A sender looks at active_[0, active_end_) only: one slot while one
  // capture runs. A stale end just means a null slot looked at, or a
  // capture that started meanwhile missing the message in flight.
  std::array<std::atomic<Capture*>, kMaxCaptures> active_{};
  std::atomic<int> active_end_{0};
  Mutex mu_;
  std::array<std::shared_ptr<Capture>, kMaxCaptures> owned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_CAPTURE_CAPTURE_HUB_H_
