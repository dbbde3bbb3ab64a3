// A hypervisor with sender/receiver domain pairs for the benchmarks: each
// pair has a receiver ring sized for the payload and sendv arguments laid
// out in the sender's memory once, so a measured iteration is exactly one
// argo_op(sendv) plus the receiver's consume (rx = tx).
#ifndef BENCH_BENCH_WORLD_H_
#define BENCH_BENCH_WORLD_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "argo_core/frame_window.h"
#include "argo_core/hypervisor.h"
#include "argo_core/virq_notifier.h"
#include "nesting/level.h"

namespace argo::bench {

// Counts VIRQs per domain in padded slots: the in-process stand-in for an
// event channel, cheap enough not to dominate the measurement.
class CountingNotifier final : public VirqNotifier {
 public:
  void RaiseVirq(domid_t domid) override {
    slots_[domid % kSlots].count.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  static constexpr int kSlots = 64;
  struct alignas(64) Slot {
    std::atomic<uint64_t> count{0};
  };
  Slot slots_[kSlots];
};

// How a pair's sender names the receiver.
enum class Addressing { kExplicit, kImplicit };

// One sender domain and one receiver ring, ready to send `payload` bytes in
// `niov` iovs. With kImplicit the sender sends from port kSrcPort to the
// implicit sentinel: the caller cables (sender, kSrcPort) -> (receiver,
// kPort) before Warm().
class SendPair {
 public:
  SendPair(Hypervisor* hv, domid_t sender, domid_t receiver, uint32_t payload,
           uint32_t niov, Addressing addressing = Addressing::kExplicit);

  // Two passes through the whole ring before any timing: every page of
  // every mapping of it is faulted in, as in a running guest.
  void Warm();

  // One sendv; returns the hypercall value.
  int64_t Send() {
    return hv_->ArgoOp(sender_, XEN_ARGO_OP_sendv, kSendAddrGpa, kIovGpa, niov_,
                       0);
  }
  // One sendv, with the receiver draining the ring (in one batch) whenever
  // the next message would not fit, as a receiver that keeps up does.
  // Returns the hypercall value.
  int64_t SendDrainingInBatches() {
    if (++sent_since_drain_ > sends_per_fill_) {
      Consume();
      sent_since_drain_ = 1;
    }
    return Send();
  }
  // The receiver consumes everything (publishes rx = tx).
  void Consume() {
    auto* ring = reinterpret_cast<xen_argo_ring_t*>(window_.data());
    uint32_t tx =
        std::atomic_ref<uint32_t>(ring->tx_ptr).load(std::memory_order_acquire);
    std::atomic_ref<uint32_t>(ring->rx_ptr)
        .store(tx, std::memory_order_release);
  }
  // notify from the receiver: NULL, or one query about its own ring.
  int64_t NotifyNull() {
    return hv_->ArgoOp(receiver_, XEN_ARGO_OP_notify, 0, 0, 0, 0);
  }
  int64_t NotifyQuery() {
    return hv_->ArgoOp(sender_, XEN_ARGO_OP_notify, kRingDataGpa, 0, 0, 0);
  }

  static constexpr xen_argo_port_t kPort = 1;
  static constexpr xen_argo_port_t kSrcPort = 7;
  domid_t sender() const { return sender_; }
  domid_t receiver() const { return receiver_; }

 private:
  static constexpr uint64_t kSendAddrGpa = 0x1000;
  static constexpr uint64_t kIovGpa = 0x1100;
  static constexpr uint64_t kRingDataGpa = 0x1200;
  static constexpr uint64_t kPayloadGpa = 0x10000;

  Hypervisor* const hv_;
  const domid_t sender_;
  const domid_t receiver_;
  const uint32_t niov_;
  const uint32_t payload_;
  uint32_t sends_per_fill_ = 1;  // messages an empty ring takes
  uint32_t sent_since_drain_ = 0;
  FrameWindow window_;  // the receiver's own view of its ring
};

// A level built with `options` (notifier set to `notifier`); dies on error.
std::unique_ptr<nesting::Level> MakeLevel(nesting::LevelOptions options,
                                          CountingNotifier* notifier);
// Options for a level with no access control (Xen without XSM): the
// baseline the policy's cost is measured against.
nesting::LevelOptions WithoutAccessControl();

// Benchmark setup cannot go on: says why and aborts.
[[noreturn]] void Die(const std::string& what);

// Frames a domain needs for a payload of `payload` bytes (sender) or a ring
// for it (receiver).
uint64_t SenderFrames(uint32_t payload);
uint32_t RingLenFor(uint32_t payload);

}  // namespace argo::bench

#endif  // BENCH_BENCH_WORLD_H_
