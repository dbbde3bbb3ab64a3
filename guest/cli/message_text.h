// How argo-guest prints a received message: one line each, the payload as
// text when every byte is printable, else as hex; or one JSON object per
// line (JSON Lines) for scripts.
#ifndef GUEST_CLI_MESSAGE_TEXT_H_
#define GUEST_CLI_MESSAGE_TEXT_H_

#include <string>

#include "argo_core/ring_reader.h"

namespace argo::guest::cli {

// True iff every byte is printable ASCII, tab, CR or LF.
bool IsPrintable(const std::vector<uint8_t>& payload);

// "from 2:5 type 3 len 7: hello A" or "... len 2 hex: 00ff" (no newline).
std::string HumanLine(const ReceivedMessage& m);

// {"src_domain":2,"src_port":5,"type":3,"len":7,"text":"hello A"}, with
// "hex" in place of "text" for binary payloads (no newline).
std::string JsonLine(const ReceivedMessage& m);

}  // namespace argo::guest::cli

#endif  // GUEST_CLI_MESSAGE_TEXT_H_
