// Limits and ring arithmetic of Xen's argo.c, in one place.
#ifndef ARGO_CORE_ARGO_LIMITS_H_
#define ARGO_CORE_ARGO_LIMITS_H_

#include <cstdint>

#include "argo_core/public/argo.h"

namespace argo {

inline constexpr uint32_t kPageSize = 4096;
inline constexpr uint32_t kPageShift = 12;
inline constexpr uint32_t kMaxRingsPerDomain = 128;
inline constexpr uint32_t kMaxNotifyCount = 256;
inline constexpr uint32_t kMaxPendingPerRing = 32;
inline constexpr uint32_t kMaxRingSize = XEN_ARGO_MAX_RING_SIZE;
inline constexpr uint32_t kMaxRingPages = kMaxRingSize >> kPageShift;
inline constexpr uint32_t kSlotSize = XEN_ARGO_MSG_SLOT_SIZE;
inline constexpr uint32_t kMessageHeaderSize =
    sizeof(struct xen_argo_ring_message_header);
inline constexpr uint32_t kRingHeaderSize = sizeof(xen_argo_ring_t);

constexpr uint64_t RoundupMessage(uint64_t bytes) {
  return (bytes + kSlotSize - 1) & ~uint64_t{kSlotSize - 1};
}

// A ring holds one header, one payload slot and one slot that always stays
// free (so rx == tx means empty): 48 bytes.
inline constexpr uint32_t kMinRingSize =
    kMessageHeaderSize + 2 * RoundupMessage(1);

// The largest payload the largest ring can carry (Xen's
// MAX_ARGO_MESSAGE_SIZE).
inline constexpr uint32_t kMaxMessageSize =
    kMaxRingSize - kMessageHeaderSize - RoundupMessage(1);

// Pages backing a ring of `len` data bytes plus its 64-byte header (Xen's
// NPAGES_RING).
constexpr uint64_t NpagesRing(uint64_t len) {
  return (RoundupMessage(len) + kRingHeaderSize + kPageSize - 1) >> kPageShift;
}

// The payload a ring of `len` can ever carry (notify's max_message_size).
constexpr uint32_t MaxPayloadForRing(uint32_t len) {
  return len - kMessageHeaderSize - static_cast<uint32_t>(RoundupMessage(1));
}

constexpr bool IsNormalDomid(uint32_t domid) {
  return domid < DOMID_FIRST_RESERVED;
}

}  // namespace argo

#endif  // ARGO_CORE_ARGO_LIMITS_H_
