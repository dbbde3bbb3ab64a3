// Writes an `argoctl capture` as pcapng (docs/capture.md): one Section
// Header Block, one Interface Description Block (LINKTYPE_USER0, ns
// timestamps), then one Enhanced Packet Block per message, whose packet
// data is the 40-byte Argo record header and the captured payload.
//
// Every record is flushed as it is written, so a reader at the other end
// of a pipe (`argoctl capture -w - | wireshark -k -i -`) sees each message
// as it comes.
//
// Thread safety: none; one writer per output, used by one thread at a time.
#ifndef TOOLSTACK_API_CAPTURE_PCAPNG_WRITER_H_
#define TOOLSTACK_API_CAPTURE_PCAPNG_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <ostream>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "toolstack_api/capture/capture_record.h"

namespace argo::toolstack::capture {

// LINKTYPE_USER0 in the tcpdump.org link-type registry.
inline constexpr uint16_t kLinkTypeUser0 = 147;

class PcapngWriter {
 public:
  // The writer does not own `out`; it must outlive the writer.
  explicit PcapngWriter(std::FILE* out);
  explicit PcapngWriter(std::ostream* out);
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  // Writes the SHB and IDB. `snap_len` bounds the payload bytes kept per
  // record; the IDB's snaplen is snap_len + 40 (the record header counts).
  // FailedPrecondition if called twice; Unavailable if the output fails.
  absl::Status WriteHeader(uint32_t snap_len);

  // Writes one EPB and flushes. `payload` is the message's payload or its
  // first bytes; at most snap_len of them are kept. r.payload_len is the
  // full length (the EPB's original length is 40 + r.payload_len).
  // FailedPrecondition before WriteHeader; InvalidArgument if
  // payload.size() > r.payload_len; Unavailable if the output fails.
  absl::Status WriteRecord(const CaptureRecordFields& r,
                           absl::Span<const uint8_t> payload);

 private:
  // Writes `block` whole and flushes the output.
  absl::Status Emit(const std::vector<uint8_t>& block);

  std::FILE* file_ = nullptr;       // exactly one of file_ and stream_
  std::ostream* stream_ = nullptr;  // is set
  bool header_written_ = false;
  uint32_t snap_len_ = 0;
};

}  // namespace argo::toolstack::capture

#endif  // TOOLSTACK_API_CAPTURE_PCAPNG_WRITER_H_
