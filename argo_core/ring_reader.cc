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

absl::StatusOr<absl::optional<ReceivedMessage>> RingReader::Read() {
  const uint32_t tx = LoadTx();
  const uint32_t rx = LoadRx();
  const uint32_t available = BytesAvailable();
  if (available == 0) return absl::nullopt;

  struct xen_argo_ring_message_header header;
  if (available < kMessageHeaderSize || rx % kSlotSize != 0) {
    StoreRx(tx);
    return absl::DataLossError(
        absl::StrCat("ring rx ", rx, " tx ", tx, ": no whole message header"));
  }
  CopyOut(rx, reinterpret_cast<uint8_t*>(&header), kMessageHeaderSize);
  if (header.len < kMessageHeaderSize || header.len > available) {
    StoreRx(tx);
    return absl::DataLossError(absl::StrCat("message header len ", header.len,
                                            " with ", available,
                                            " bytes available"));
  }
  ReceivedMessage message;
  message.source = header.source;
  message.message_type = header.message_type;
  message.payload.resize(header.len - kMessageHeaderSize);
  uint32_t payload_at = rx + kMessageHeaderSize;
  if (payload_at >= len_) payload_at -= len_;
  CopyOut(payload_at, message.payload.data(),
          static_cast<uint32_t>(message.payload.size()));
  uint64_t next = RoundupMessage(uint64_t{rx} + header.len);
  StoreRx(static_cast<uint32_t>(next % len_));
  return message;
}

}  // namespace argo
