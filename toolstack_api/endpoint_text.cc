#include "toolstack_api/endpoint_text.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace argo::toolstack {
namespace {

constexpr absl::string_view kParent = "parent";

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<v1::DomainRef> ParseDomainRef(absl::string_view text) {
  v1::DomainRef ref;
  if (text.empty()) return absl::InvalidArgumentError("empty domain name");
  if (AllDigits(text)) {
    uint32_t id = 0;
    if (!absl::SimpleAtoi(text, &id) || id > 0xFFFF) {
      return absl::InvalidArgumentError(
          absl::StrCat("domain id ", text, " is out of range (0..65535)"));
    }
    ref.set_id(id);
  } else {
    ref.set_name(std::string(text));
  }
  return ref;
}

absl::StatusOr<v1::Endpoint> ParseEndpoint(absl::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not an endpoint: write DOMAIN:PORT or parent:PORT"));
  }
  const absl::string_view who = text.substr(0, colon);
  const absl::string_view port_text = text.substr(colon + 1);
  uint32_t port = 0;
  if (!AllDigits(port_text) || !absl::SimpleAtoi(port_text, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": the port must be a number in 0..",
                     UINT32_MAX));
  }
  v1::Endpoint e;
  e.set_port(port);
  if (who == kParent) {
    e.set_parent(true);
    return e;
  }
  absl::StatusOr<v1::DomainRef> ref = ParseDomainRef(who);
  if (!ref.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": ", ref.status().message()));
  }
  *e.mutable_domain() = *std::move(ref);
  return e;
}

std::string FormatDomainRef(const v1::DomainRef& ref) {
  return ref.has_id() ? absl::StrCat(ref.id()) : ref.name();
}

std::string FormatEndpoint(const v1::Endpoint& e) {
  if (e.parent()) return absl::StrCat(kParent, ":", e.port());
  if (!e.resolved_name().empty()) {
    return absl::StrCat(e.resolved_name(), ":", e.port());
  }
  return absl::StrCat(FormatDomainRef(e.domain()), ":", e.port());
}

}  // namespace argo::toolstack
