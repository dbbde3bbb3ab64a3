#include "guest/cli/message_text.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/optional.h"
#include "argo_core/name_path.h"
#include "guest/received_path.h"

namespace argo::guest::cli {
namespace {

std::string Hex(absl::Span<const uint8_t> payload) {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(payload.data()), payload.size()));
}

// A JSON string body: quotes, backslashes and control bytes escaped.
// (Only called on printable payloads, but safe for any byte.)
std::string JsonEscape(absl::Span<const uint8_t> payload) {
  std::string out;
  for (uint8_t c : payload) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// What a line shows of a message. Both forms print from this, so they
// agree on which type and payload belong to a path message.
struct Shown {
  // Set iff a PATH message with a well-formed block.
  absl::optional<NamePath> path;
  // A PATH message whose block is malformed: type and payload as received.
  bool malformed_path = false;
  // The original's for a path message, else as received; the payload
  // points into the message's.
  uint32_t type = 0;
  absl::Span<const uint8_t> payload;
};

Shown Show(const ReceivedMessage& m) {
  Shown shown;
  shown.type = m.message_type;
  shown.payload = absl::MakeConstSpan(m.payload);
  absl::StatusOr<absl::optional<ReceivedPath>> received = ParseReceivedPath(m);
  if (!received.ok()) {
    shown.malformed_path = true;
  } else if (received->has_value()) {
    shown.path = (*received)->path;
    shown.type = (*received)->path.message_type;
    shown.payload = (*received)->payload;
  }
  return shown;
}

// "2:5", or "parent:7" for a message that came down from the parent level.
std::string SourceText(const xen_argo_addr_t& source) {
  return absl::StrCat(source.domain_id == ARGO_DOMID_PARENT
                          ? std::string("parent")
                          : absl::StrCat(source.domain_id),
                      ":", source.aport);
}

}  // namespace

bool IsPrintable(absl::Span<const uint8_t> payload) {
  for (uint8_t c : payload) {
    const bool printable =
        (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r';
    if (!printable) return false;
  }
  return true;
}

std::string HumanLine(const ReceivedMessage& m) {
  const Shown shown = Show(m);
  std::string head = absl::StrCat("from ", SourceText(m.source));
  if (shown.path.has_value()) {
    absl::StrAppend(&head, " path ", NamePathText(*shown.path));
  } else if (shown.malformed_path) {
    absl::StrAppend(&head, " malformed path block");
  }
  absl::StrAppend(&head, " type ", shown.type, " len ", shown.payload.size());
  if (IsPrintable(shown.payload)) {
    return absl::StrCat(
        head, ": ", std::string(shown.payload.begin(), shown.payload.end()));
  }
  return absl::StrCat(head, " hex: ", Hex(shown.payload));
}

std::string JsonLine(const ReceivedMessage& m) {
  const Shown shown = Show(m);
  std::string line =
      absl::StrCat("{\"src_domain\":", m.source.domain_id,
                   ",\"src_port\":", m.source.aport, ",\"type\":", shown.type);
  if (shown.path.has_value()) {
    absl::StrAppend(&line, ",\"path\":[");
    for (int i = 0; i < shown.path->depth; ++i) {
      const xen_argo_addr_t& hop = shown.path->hops[i];
      absl::StrAppend(&line, i == 0 ? "" : ",", "{\"domid\":", hop.domain_id,
                      ",\"port\":", hop.aport, "}");
    }
    absl::StrAppend(&line, "],\"dst_port\":", shown.path->dst_port);
  } else if (shown.malformed_path) {
    absl::StrAppend(&line, ",\"malformed_path\":true");
  }
  const bool text = IsPrintable(shown.payload);
  absl::StrAppend(&line, ",\"len\":", shown.payload.size(), ",\"",
                  text ? "text" : "hex", "\":\"",
                  text ? JsonEscape(shown.payload) : Hex(shown.payload), "\"}");
  return line;
}

}  // namespace argo::guest::cli
