#include "argo_core/ring_reader.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"

namespace argo {

uint32_t RingReader::LoadTx() const {
  return std::atomic_ref<uint32_t>(ring_->tx_ptr)
      .load(std::memory_order_acquire);
}

uint32_t RingReader::LoadRx() const {
  return std::atomic_ref<uint32_t>(ring_->rx_ptr)
      .load(std::memory_order_relaxed);
}

void RingReader::StoreRx(uint32_t rx) {
  std::atomic_ref<uint32_t>(ring_->rx_ptr).store(rx, std::memory_order_release);
}

uint32_t RingReader::BytesAvailable() const {
  uint32_t tx = LoadTx();
  uint32_t rx = LoadRx();
  if (tx >= len_ || rx >= len_) return 0;
  return tx >= rx ? tx - rx : len_ - rx + tx;
}

void RingReader::CopyOut(uint32_t at, uint8_t* dst, uint32_t n) const {
  if (n == 0) return;  // dst may be null for an empty payload
  uint32_t first = std::min(n, len_ - at);
  std::memcpy(dst, ring_->ring + at, first);
  std::memcpy(dst + first, ring_->ring, n - first);
}

absl::StatusOr<bool> RingReader::Peek(Peeked* out) {
  const uint32_t tx = LoadTx();
  const uint32_t rx = LoadRx();
  const uint32_t available = BytesAvailable();
  if (available == 0) return false;

  struct xen_argo_ring_message_header header;
  if (available < kMessageHeaderSize || rx % kSlotSize != 0) {
    StoreRx(tx);
    return absl::DataLossError(
        absl::StrCat("ring rx ", rx, " tx ", tx, ": no whole message header"));
  }
  // A header never wraps: messages start on 16-byte slots and len is a
  // multiple of 16.
  CopyOut(rx, reinterpret_cast<uint8_t*>(&header), kMessageHeaderSize);
  if (header.len < kMessageHeaderSize || header.len > available) {
    StoreRx(tx);
    return absl::DataLossError(absl::StrCat("message header len ", header.len,
                                            " with ", available,
                                            " bytes available"));
  }
  out->source = header.source;
  out->message_type = header.message_type;
  out->payload_len = header.len - kMessageHeaderSize;
  uint32_t payload_at = rx + kMessageHeaderSize;
  if (payload_at >= len_) payload_at -= len_;
  const uint32_t first = std::min(out->payload_len, len_ - payload_at);
  out->parts[0] = MessagePart{ring_->ring + payload_at, first};
  out->parts[1] = MessagePart{ring_->ring, out->payload_len - first};
  out->nparts = out->parts[1].len != 0 ? 2 : 1;
  out->available = available;
  out->slot_bytes = static_cast<uint32_t>(RoundupMessage(header.len));
  peeked_next_ =
      static_cast<uint32_t>(RoundupMessage(uint64_t{rx} + header.len) % len_);
  return true;
}

void RingReader::Consume() { StoreRx(peeked_next_); }

absl::StatusOr<absl::optional<ReceivedMessage>> RingReader::Read() {
  Peeked peeked;
  absl::StatusOr<bool> any = Peek(&peeked);
  if (!any.ok()) return any.status();
  if (!*any) return absl::nullopt;
  ReceivedMessage message;
  message.source = peeked.source;
  message.message_type = peeked.message_type;
  message.payload.resize(peeked.payload_len);
  TrafficTap::CopyPayload(absl::MakeConstSpan(peeked.parts, peeked.nparts),
                          message.payload.data(), peeked.payload_len);
  Consume();
  return message;
}

}  // namespace argo
