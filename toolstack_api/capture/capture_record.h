// The Argo capture record header (docs/capture.md): the 40 little-endian
// bytes that open every packet of an `argoctl capture` pcapng file, ahead
// of the captured payload. The layout is written once, here and in
// capture_record.cc; tools/wireshark/argo.lua reads the same offsets.
#ifndef TOOLSTACK_API_CAPTURE_CAPTURE_RECORD_H_
#define TOOLSTACK_API_CAPTURE_CAPTURE_RECORD_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace argo::toolstack::capture {

inline constexpr uint8_t kCaptureRecordVersion = 1;
inline constexpr size_t kCaptureRecordHeaderLen = 40;

// Bits of CaptureRecordFields::flags.
// The sender named the implicit destination (ARGO_DOMID_IMPLICIT).
inline constexpr uint8_t kCaptureFlagImplicit = 1u << 0;
// The send was refused; xen_errno says why. Nothing was delivered.
inline constexpr uint8_t kCaptureFlagRefused = 1u << 1;
// The destination ring is a wildcard ring (partner XEN_ARGO_DOMID_ANY).
inline constexpr uint8_t kCaptureFlagWildcard = 1u << 2;
// Delivered from a host buffer (a level forwarding), not by a guest sendv.
inline constexpr uint8_t kCaptureFlagFromHost = 1u << 3;

// One captured message, as the writer takes it and the decoder returns it.
// unix_nanos travels in the pcapng block (the EPB timestamp), not in the
// record header: DecodeRecordHeader leaves it 0.
struct CaptureRecordFields {
  uint64_t unix_nanos = 0;  // CLOCK_REALTIME when delivered or refused
  uint8_t flags = 0;        // kCaptureFlag* bits
  uint32_t message_type = 0;
  uint32_t src_port = 0;
  uint16_t src_domid = 0;
  uint16_t dst_domid = 0;  // 0x7FF8 if an implicit send failed to resolve
  uint32_t dst_port = 0;
  uint16_t ring_partner = 0;  // 0x7FF4 for wildcard or no ring found
  uint16_t xen_errno = 0;     // 0 delivered, else positive Xen errno
  uint32_t payload_len = 0;   // full payload length, not the captured part

  friend bool operator==(const CaptureRecordFields&,
                         const CaptureRecordFields&) = default;
};

// What a reader learns from a header beyond the fields.
struct DecodedRecordHeader {
  CaptureRecordFields fields;
  uint8_t version = 0;
  uint16_t header_len = 0;  // payload starts this many bytes in
  uint32_t captured_len = 0;
  uint32_t path_len = 0;
};

// The version-1 header for `fields` followed by `captured_len` payload
// bytes. REQUIRES: captured_len <= fields.payload_len.
std::array<uint8_t, kCaptureRecordHeaderLen> EncodeRecordHeader(
    const CaptureRecordFields& fields, uint32_t captured_len);

// Parses the first header_len bytes of `bytes` (which may go on into the
// payload). InvalidArgument if `bytes` is shorter than 40 bytes or than its
// header_len, if version is 0, if header_len < 40, or if captured_len >
// payload_len. A later version with a longer header decodes: the fields
// this version knows keep their offsets.
absl::StatusOr<DecodedRecordHeader> DecodeRecordHeader(
    absl::Span<const uint8_t> bytes);

}  // namespace argo::toolstack::capture

#endif  // TOOLSTACK_API_CAPTURE_CAPTURE_RECORD_H_
