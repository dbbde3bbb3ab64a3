// libargo_guest: a typed guest API over the raw argo_op hypercall. It lays
// hypercall arguments out in the guest's own memory (a scratch area), so
// the hypervisor sees exactly what a Xen guest driver would pass.
//
// Guest memory layout: frame 0 is never used (0 is the NULL handle);
// frames 1..kScratchFrames hold hypercall arguments; then the send buffer;
// the rest is handed out for rings by a FrameAllocator.
//
// Thread safety: calls on one ArgoGuest are serialised internally. Each
// GuestRing is read by one thread at a time.
#ifndef ARGO_CORE_GUEST_ARGO_GUEST_H_
#define ARGO_CORE_GUEST_ARGO_GUEST_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "argo_core/frame_window.h"
#include "argo_core/guest/frame_allocator.h"
#include "argo_core/guest/hypercall_port.h"
#include "argo_core/guest_memory.h"
#include "argo_core/mutex.h"
#include "argo_core/public/argo.h"
#include "argo_core/ring_reader.h"

namespace argo {

class ArgoGuest;

// A ring this guest registered: its frames, its own view of them and the
// §3.5 reader.
class GuestRing {
 public:
  xen_argo_port_t aport() const { return aport_; }
  domid_t partner_id() const { return partner_id_; }
  uint32_t len() const { return len_; }
  const std::vector<uint64_t>& frames() const { return frames_; }
  xen_argo_ring_t* header() const {
    return reinterpret_cast<xen_argo_ring_t*>(window_.data());
  }

  uint32_t BytesAvailable() const { return reader_.BytesAvailable(); }
  // The next message, consumed; nullopt if none. Call ArgoGuest::NotifyNull
  // after reading to wake senders waiting for space.
  absl::StatusOr<absl::optional<ReceivedMessage>> Read() {
    return reader_.Read();
  }

 private:
  friend class ArgoGuest;
  GuestRing(xen_argo_port_t aport, domid_t partner, uint32_t len,
            std::vector<uint64_t> frames, FrameWindow window)
      : aport_(aport),
        partner_id_(partner),
        len_(len),
        frames_(std::move(frames)),
        window_(std::move(window)),
        reader_(header(), len) {}

  const xen_argo_port_t aport_;
  const domid_t partner_id_;
  const uint32_t len_;
  const std::vector<uint64_t> frames_;
  FrameWindow window_;
  RingReader reader_;
};

// One notify query: "tell me about ring `ring`, I want `space_required`".
struct RingQuery {
  xen_argo_addr_t ring;
  uint32_t space_required = 0;
};

struct GuestOptions {
  // Largest payload Sendv can take (data is staged in guest memory).
  uint32_t send_buffer_bytes = 64 * 1024;
};

class ArgoGuest {
 public:
  static constexpr uint64_t kScratchFrames = 12;

  // `memory` is this guest's view of its own memory (in-process: the
  // hypervisor's object; multi-process: the adopted memfd).
  static absl::StatusOr<std::unique_ptr<ArgoGuest>> Create(
      HypercallPort* port, std::shared_ptr<GuestMemory> memory, domid_t self,
      GuestOptions options = {});

  domid_t domid() const { return self_; }
  const GuestMemory& memory() const { return *memory_; }

  // Allocates frames for a ring of `len` bytes and registers it. The ring
  // stays owned by this guest; the pointer is valid until UnregisterRing.
  absl::StatusOr<GuestRing*> RegisterRing(xen_argo_port_t aport,
                                          domid_t partner, uint32_t len,
                                          uint32_t flags = 0);
  absl::Status UnregisterRing(GuestRing* ring);

  // `n` frames of this guest's memory for its own use (buffers it passes
  // in raw hypercalls). They are never handed out for rings until freed.
  // ResourceExhausted if fewer are free. REQUIRES for Free: frames came from
  // AllocateFrames and were not freed since.
  absl::StatusOr<std::vector<uint64_t>> AllocateFrames(uint64_t n);
  void FreeFrames(absl::Span<const uint64_t> frames);

  // Sends the concatenation of `parts` (one iov each, at most 8) from
  // this guest's port `src_port` to `dst`. Returns the payload length.
  absl::StatusOr<uint32_t> Sendv(
      xen_argo_port_t src_port, xen_argo_addr_t dst,
      absl::Span<const absl::Span<const uint8_t>> parts, uint32_t message_type);
  absl::StatusOr<uint32_t> Send(xen_argo_port_t src_port, xen_argo_addr_t dst,
                                absl::Span<const uint8_t> data,
                                uint32_t message_type);

  // The raw argo_op, serialised with the typed calls (a port serves one
  // call at a time). Handles are guest-physical addresses in memory().
  int64_t Hypercall(unsigned int cmd, uint64_t arg1, uint64_t arg2,
                    uint64_t arg3, uint64_t arg4);

  // notify with a NULL ring-data handle: "I consumed; wake waiting senders".
  absl::Status NotifyNull();
  // notify with queries; returns the entries as the hypervisor filled them.
  absl::StatusOr<std::vector<xen_argo_ring_data_ent_t>> Notify(
      absl::Span<const RingQuery> queries);

 private:
  ArgoGuest(HypercallPort* port, std::shared_ptr<GuestMemory> memory,
            domid_t self, uint32_t send_buffer_frames);

  // Scratch offsets (guest-physical) for hypercall arguments.
  static constexpr uint64_t kStructsGpa = 1 * 4096;
  static constexpr uint64_t kRingDataGpa = 2 * 4096;  // 8 + 256 * 20 bytes
  static constexpr uint64_t kGfnArrayGpa = 4 * 4096;  // up to 4096 * 8 bytes
  static constexpr uint64_t kSendBufferGpa = (1 + kScratchFrames) * 4096;

  int64_t Op(unsigned int cmd, uint64_t a1, uint64_t a2, uint64_t a3,
             uint64_t a4) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename T>
  void Put(uint64_t gpa, const T& value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  HypercallPort* const port_;
  const std::shared_ptr<GuestMemory> memory_;
  const domid_t self_;
  const uint32_t send_buffer_bytes_;

  Mutex mu_;
  FrameAllocator frames_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<GuestRing>> rings_ ABSL_GUARDED_BY(mu_);
};

}  // namespace argo

#endif  // ARGO_CORE_GUEST_ARGO_GUEST_H_
