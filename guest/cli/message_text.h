// How argo-guest prints a received message: one line each, the payload as
// text when every byte is printable, else as hex; or one JSON object per
// line (JSON Lines) for scripts.
//
// A message that crossed hypervisor levels (ARGO_MSG_TYPE_PATH, DESIGN §7)
// is printed with its path, nearest hop first, and its original type and
// payload; one whose path block is malformed is printed as received and
// marked so (guest/received_path.h).
#ifndef GUEST_CLI_MESSAGE_TEXT_H_
#define GUEST_CLI_MESSAGE_TEXT_H_

#include <cstdint>
#include <string>

#include "absl/types/span.h"
#include "argo_core/ring_reader.h"

namespace argo::guest::cli {

// True iff every byte is printable ASCII, tab, CR or LF.
bool IsPrintable(absl::Span<const uint8_t> payload);

// "from 2:5 type 3 len 7: hello A" or "... len 2 hex: 00ff" (no newline).
// A source from the parent level reads "parent:7". A path message:
// "from parent:7 path dom3:100/dom5:20 type 9 len 5: hello" (type, len and
// payload the original's); a malformed one:
// "from 2:5 malformed path block type 1213481296 len 3 hex: 010203".
std::string HumanLine(const ReceivedMessage& m);

// {"src_domain":2,"src_port":5,"type":3,"len":7,"text":"hello A"}, with
// "hex" in place of "text" for binary payloads (no newline). A path
// message adds "path":[{"domid":3,"port":100},...] (nearest first) and
// "dst_port" after "type", which is the original's, as are "len" and the
// payload; a malformed one adds "malformed_path":true.
std::string JsonLine(const ReceivedMessage& m);

}  // namespace argo::guest::cli

#endif  // GUEST_CLI_MESSAGE_TEXT_H_
