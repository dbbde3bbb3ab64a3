#include "toolstack_api/capture/pcapng_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace argo::toolstack::capture {
namespace {

// pcapng block types and option codes (draft-ietf-opsawg-pcapng).
constexpr uint32_t kSectionHeaderBlock = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescriptionBlock = 0x00000001;
constexpr uint32_t kEnhancedPacketBlock = 0x00000006;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kOptEndOfOpt = 0;
constexpr uint16_t kOptIfName = 2;
constexpr uint16_t kOptIfTsresol = 9;
constexpr uint8_t kTsresolNanoseconds = 9;  // 10^-9 s
constexpr uint32_t kInterfaceId = 0;        // the only interface

// Appends little-endian fields to a block under construction; the block
// sizes here are small and computed exactly, so a vector is enough.
class BlockBuilder {
 public:
  explicit BlockBuilder(uint32_t type) {
    U32(type);
    U32(0);  // total length, patched by Finish
  }
  void U16(uint16_t v) { Le(v); }
  void U32(uint32_t v) { Le(v); }
  void U64(uint64_t v) { Le(v); }
  void Bytes(absl::Span<const uint8_t> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
  }
  // Zero bytes up to the next 32-bit boundary (pcapng pads data and
  // option values to 4 bytes; the padding is not counted in their lengths).
  void Pad32() {
    while (bytes_.size() % 4 != 0) bytes_.push_back(0);
  }
  void Option(uint16_t code, absl::Span<const uint8_t> value) {
    U16(code);
    U16(static_cast<uint16_t>(value.size()));
    Bytes(value);
    Pad32();
  }
  // Writes the total length at both ends of the block and returns it.
  std::vector<uint8_t> Finish() && {
    const uint32_t total = static_cast<uint32_t>(bytes_.size() + 4);
    U32(total);
    for (int i = 0; i < 4; ++i)
      bytes_[4 + i] = static_cast<uint8_t>(total >> (8 * i));
    return std::move(bytes_);
  }

 private:
  template <typename T>
  void Le(T v) {
    for (size_t i = 0; i < sizeof(T); ++i) {
      bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
  }

  std::vector<uint8_t> bytes_;
};

}  // namespace

PcapngWriter::PcapngWriter(std::FILE* out) : file_(out) {}
PcapngWriter::PcapngWriter(std::ostream* out) : stream_(out) {}

absl::Status PcapngWriter::Emit(const std::vector<uint8_t>& block) {
  if (file_ != nullptr) {
    if (std::fwrite(block.data(), 1, block.size(), file_) != block.size() ||
        std::fflush(file_) != 0) {
      return absl::UnavailableError(
          absl::StrCat("pcapng write failed: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  stream_->write(reinterpret_cast<const char*>(block.data()),
                 static_cast<std::streamsize>(block.size()));
  stream_->flush();
  if (!stream_->good()) {
    return absl::UnavailableError("pcapng write failed: stream went bad");
  }
  return absl::OkStatus();
}

absl::Status PcapngWriter::WriteHeader(uint32_t snap_len) {
  if (header_written_) {
    return absl::FailedPreconditionError("pcapng header already written");
  }
  BlockBuilder shb(kSectionHeaderBlock);
  shb.U32(kByteOrderMagic);
  shb.U16(1);             // major version
  shb.U16(0);             // minor version
  shb.U64(~uint64_t{0});  // section length -1: not known (we stream)
  std::vector<uint8_t> out = std::move(shb).Finish();

  BlockBuilder idb(kInterfaceDescriptionBlock);
  idb.U16(kLinkTypeUser0);
  idb.U16(0);  // reserved
  // Saturate rather than wrap for a snap_len near 4 GiB.
  idb.U32(snap_len > UINT32_MAX - kCaptureRecordHeaderLen
              ? UINT32_MAX
              : static_cast<uint32_t>(snap_len + kCaptureRecordHeaderLen));
  static constexpr uint8_t kIfName[] = {'a', 'r', 'g', 'o'};
  idb.Option(kOptIfName, kIfName);
  idb.Option(kOptIfTsresol, {&kTsresolNanoseconds, 1});
  idb.Option(kOptEndOfOpt, {});
  std::vector<uint8_t> idb_bytes = std::move(idb).Finish();
  out.insert(out.end(), idb_bytes.begin(), idb_bytes.end());

  if (absl::Status s = Emit(out); !s.ok()) return s;
  header_written_ = true;
  snap_len_ = snap_len;
  return absl::OkStatus();
}

absl::Status PcapngWriter::WriteRecord(const CaptureRecordFields& r,
                                       absl::Span<const uint8_t> payload) {
  if (!header_written_) {
    return absl::FailedPreconditionError(
        "pcapng record written before the header");
  }
  if (payload.size() > r.payload_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("capture payload of ", payload.size(),
                     " bytes exceeds payload_len ", r.payload_len));
  }
  const uint32_t captured =
      static_cast<uint32_t>(std::min<size_t>(payload.size(), snap_len_));
  const std::array<uint8_t, kCaptureRecordHeaderLen> header =
      EncodeRecordHeader(r, captured);

  BlockBuilder epb(kEnhancedPacketBlock);
  epb.U32(kInterfaceId);
  epb.U32(static_cast<uint32_t>(r.unix_nanos >> 32));  // in if_tsresol units
  epb.U32(static_cast<uint32_t>(r.unix_nanos));
  epb.U32(kCaptureRecordHeaderLen + captured);
  // The original length is a u32; a payload_len within 40 of 4 GiB
  // (beyond any ring) saturates.
  epb.U32(r.payload_len > UINT32_MAX - kCaptureRecordHeaderLen
              ? UINT32_MAX
              : static_cast<uint32_t>(kCaptureRecordHeaderLen + r.payload_len));
  epb.Bytes(header);
  epb.Bytes(payload.first(captured));
  epb.Pad32();
  return Emit(std::move(epb).Finish());
}

}  // namespace argo::toolstack::capture
