#include "guest/cli/message_text.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace argo::guest::cli {
namespace {

std::string Hex(const std::vector<uint8_t>& payload) {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(payload.data()), payload.size()));
}

// A JSON string body: quotes, backslashes and control bytes escaped.
// (Only called on printable payloads, but safe for any byte.)
std::string JsonEscape(const std::vector<uint8_t>& payload) {
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

}  // namespace

bool IsPrintable(const std::vector<uint8_t>& payload) {
  for (uint8_t c : payload) {
    const bool printable =
        (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r';
    if (!printable) return false;
  }
  return true;
}

std::string HumanLine(const ReceivedMessage& m) {
  const std::string head =
      absl::StrCat("from ", m.source.domain_id, ":", m.source.aport, " type ",
                   m.message_type, " len ", m.payload.size());
  if (IsPrintable(m.payload)) {
    return absl::StrCat(head, ": ",
                        std::string(m.payload.begin(), m.payload.end()));
  }
  return absl::StrCat(head, " hex: ", Hex(m.payload));
}

std::string JsonLine(const ReceivedMessage& m) {
  const bool text = IsPrintable(m.payload);
  return absl::StrCat(
      "{\"src_domain\":", m.source.domain_id, ",\"src_port\":", m.source.aport,
      ",\"type\":", m.message_type, ",\"len\":", m.payload.size(), ",\"",
      text ? "text" : "hex", "\":\"",
      text ? JsonEscape(m.payload) : Hex(m.payload), "\"}");
}

}  // namespace argo::guest::cli
