// A tap on the hypervisor's delivery path (traffic capture, docs/capture.md):
// every message a guest's sendv delivers or is refused, and every message
// delivered from a host buffer, reported with its addresses and a way to
// copy its leading payload bytes.
//
// Installed with Hypervisor::SetTrafficTap only while someone captures:
// with none installed a send pays one predictable branch.
#ifndef ARGO_CORE_TRAFFIC_TAP_H_
#define ARGO_CORE_TRAFFIC_TAP_H_

#include <cstdint>

#include "absl/types/span.h"
#include "argo_core/public/argo.h"

namespace argo {

struct TapRecord {
  // CLOCK_REALTIME of the report. The hypervisor leaves it 0: the tap
  // stamps what it keeps (with a cheaper clock than the send should pay
  // for messages nobody records).
  int64_t unix_nanos = 0;
  xen_argo_addr_t source{};   // the claimed port, the stamped domid
  // The destination ring: the resolved address for an implicit send;
  // ring_partner is XEN_ARGO_DOMID_ANY for a wildcard ring, and for a
  // refusal before any ring was found (then `ring` is what was named).
  xen_argo_addr_t ring{};
  domid_t ring_partner = XEN_ARGO_DOMID_ANY;
  uint32_t message_type = 0;
  bool implicit = false;   // the sender named the implicit destination
  bool from_host = false;  // DeliverFromHost, not a guest's sendv
  uint16_t xen_errno = 0;  // 0: delivered; else the refusal's errno
  uint32_t payload_len = 0;
};

// One piece of a message's payload: `len` bytes at `data` in this process
// (a guest's iov already translated into the hypervisor's mapping of its
// memory, or a host buffer). The ring code writes messages from these and
// the tap reports them; a tap may read them only during OnMessage (the
// guest may rewrite its memory meanwhile).
struct MessagePart {
  const uint8_t* data;
  uint32_t len;
};

class TrafficTap {
 public:
  // Copies up to `max` leading bytes of `payload` to `out`; returns how
  // many (the helper every tap uses).
  static uint32_t CopyPayload(absl::Span<const MessagePart> payload,
                              uint8_t* out, uint32_t max) {
    uint32_t copied = 0;
    for (const MessagePart& piece : payload) {
      if (copied == max) break;
      const uint32_t n = piece.len < max - copied ? piece.len : max - copied;
      __builtin_memcpy(out + copied, piece.data, n);
      copied += n;
    }
    return copied;
  }

  virtual ~TrafficTap() = default;
  // Called on the sender's thread under the hypervisor's L1 read lock
  // (so Hypervisor::WaitForHypercalls waits for calls in flight), from
  // many threads at once: must not block, must not call back into the
  // hypervisor. Copy the payload now or never.
  virtual void OnMessage(const TapRecord& record,
                         absl::Span<const MessagePart> payload) = 0;
};

}  // namespace argo

#endif  // ARGO_CORE_TRAFFIC_TAP_H_
