#include "toolstack_api/capture/capture_record.h"

#include "absl/base/macros.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace argo::toolstack::capture {
namespace {

// Offsets of docs/capture.md's table.
constexpr size_t kVersionAt = 0;
constexpr size_t kFlagsAt = 1;
constexpr size_t kHeaderLenAt = 2;
constexpr size_t kMessageTypeAt = 4;
constexpr size_t kSrcPortAt = 8;
constexpr size_t kSrcDomidAt = 12;
constexpr size_t kDstDomidAt = 14;
constexpr size_t kDstPortAt = 16;
constexpr size_t kRingPartnerAt = 20;
constexpr size_t kXenErrnoAt = 22;
constexpr size_t kPayloadLenAt = 24;
constexpr size_t kCapturedLenAt = 28;
constexpr size_t kPathLenAt = 32;
constexpr size_t kReservedAt = 36;
static_assert(kReservedAt + 4 == kCaptureRecordHeaderLen);

// Little-endian regardless of the host: byte by byte.
template <typename T>
void Put(uint8_t* at, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    at[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}

template <typename T>
T Get(const uint8_t* at) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>(v | static_cast<T>(at[i]) << (8 * i));
  }
  return v;
}

}  // namespace

std::array<uint8_t, kCaptureRecordHeaderLen> EncodeRecordHeader(
    const CaptureRecordFields& f, uint32_t captured_len) {
  ABSL_ASSERT(captured_len <= f.payload_len);
  std::array<uint8_t, kCaptureRecordHeaderLen> h{};  // reserved stays 0
  uint8_t* p = h.data();
  Put<uint8_t>(p + kVersionAt, kCaptureRecordVersion);
  Put<uint8_t>(p + kFlagsAt, f.flags);
  Put<uint16_t>(p + kHeaderLenAt, kCaptureRecordHeaderLen);
  Put<uint32_t>(p + kMessageTypeAt, f.message_type);
  Put<uint32_t>(p + kSrcPortAt, f.src_port);
  Put<uint16_t>(p + kSrcDomidAt, f.src_domid);
  Put<uint16_t>(p + kDstDomidAt, f.dst_domid);
  Put<uint32_t>(p + kDstPortAt, f.dst_port);
  Put<uint16_t>(p + kRingPartnerAt, f.ring_partner);
  Put<uint16_t>(p + kXenErrnoAt, f.xen_errno);
  Put<uint32_t>(p + kPayloadLenAt, f.payload_len);
  Put<uint32_t>(p + kCapturedLenAt, captured_len);
  Put<uint32_t>(p + kPathLenAt, 0);  // no name path until nesting adds one
  return h;
}

absl::StatusOr<DecodedRecordHeader> DecodeRecordHeader(
    absl::Span<const uint8_t> bytes) {
  if (bytes.size() < kCaptureRecordHeaderLen) {
    return absl::InvalidArgumentError(absl::StrCat(
        "capture record of ", bytes.size(), " bytes is shorter than the ",
        kCaptureRecordHeaderLen, "-byte header"));
  }
  const uint8_t* p = bytes.data();
  DecodedRecordHeader d;
  d.version = Get<uint8_t>(p + kVersionAt);
  d.header_len = Get<uint16_t>(p + kHeaderLenAt);
  if (d.version == 0) {
    return absl::InvalidArgumentError("capture record version 0");
  }
  if (d.header_len < kCaptureRecordHeaderLen || d.header_len > bytes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("capture record header_len ", d.header_len, " outside [",
                     kCaptureRecordHeaderLen, ", ", bytes.size(), "]"));
  }
  CaptureRecordFields& f = d.fields;
  f.flags = Get<uint8_t>(p + kFlagsAt);
  f.message_type = Get<uint32_t>(p + kMessageTypeAt);
  f.src_port = Get<uint32_t>(p + kSrcPortAt);
  f.src_domid = Get<uint16_t>(p + kSrcDomidAt);
  f.dst_domid = Get<uint16_t>(p + kDstDomidAt);
  f.dst_port = Get<uint32_t>(p + kDstPortAt);
  f.ring_partner = Get<uint16_t>(p + kRingPartnerAt);
  f.xen_errno = Get<uint16_t>(p + kXenErrnoAt);
  f.payload_len = Get<uint32_t>(p + kPayloadLenAt);
  d.captured_len = Get<uint32_t>(p + kCapturedLenAt);
  d.path_len = Get<uint32_t>(p + kPathLenAt);
  if (d.captured_len > f.payload_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("capture record captured_len ", d.captured_len,
                     " exceeds payload_len ", f.payload_len));
  }
  return d;
}

}  // namespace argo::toolstack::capture
