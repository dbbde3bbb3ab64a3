// The receiver protocol of §3.5, run by the guest that owns a ring:
// bytes available = (tx - rx) mod len; the 16-byte header at rx; a payload
// that may wrap; consume with rx = roundup16(rx + header.len) mod len,
// published with a release store after the copy. Then a NULL notify lets
// the hypervisor wake waiting senders (the caller's job).
//
// Thread safety: one reader per ring (the ring's owner). The hypervisor
// writes concurrently; tx_ptr is read with acquire, rx_ptr written with
// release.
#ifndef ARGO_CORE_RING_READER_H_
#define ARGO_CORE_RING_READER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "argo_core/public/argo.h"
#include "argo_core/traffic_tap.h"

namespace argo {

struct ReceivedMessage {
  xen_argo_addr_t source;
  uint32_t message_type;
  std::vector<uint8_t> payload;
};

class RingReader {
 public:
  // `ring` is the guest's contiguous view of the ring header followed by
  // `len` data bytes. REQUIRES: len is a valid registered ring length.
  RingReader(xen_argo_ring_t* ring, uint32_t len) : ring_(ring), len_(len) {}

  // Message bytes (headers and padding included) waiting to be read.
  uint32_t BytesAvailable() const;

  // Reads and consumes the next message; nullopt if the ring is empty.
  // DataLoss if the ring holds a header that cannot be valid (the ring is
  // then reset to empty so the reader can go on).
  absl::StatusOr<absl::optional<ReceivedMessage>> Read();

  // The next message in place, not consumed: its payload as one or two
  // pieces of the ring (two when it wraps), valid until Consume. False if
  // the ring is empty; DataLoss as Read. For a reader that forwards
  // messages without copying them out (a nesting level's drainer).
  struct Peeked {
    xen_argo_addr_t source;
    uint32_t message_type;
    uint32_t payload_len;
    MessagePart parts[2];
    uint32_t nparts;
    uint32_t available;  // ring bytes in use when peeked, this one included
    uint32_t slot_bytes;  // what Consume frees: header + payload, rounded
  };
  absl::StatusOr<bool> Peek(Peeked* out);
  // Consumes the message the last successful Peek returned.
  void Consume();

 private:
  uint32_t LoadTx() const;
  uint32_t LoadRx() const;
  void StoreRx(uint32_t rx);
  // Copies n bytes from ring offset `at`, wrapping at len.
  void CopyOut(uint32_t at, uint8_t* dst, uint32_t n) const;

  xen_argo_ring_t* const ring_;
  const uint32_t len_;
  uint32_t peeked_next_ = 0;  // rx after the message Peek returned
};

}  // namespace argo

#endif  // ARGO_CORE_RING_READER_H_
