#include "transport/wire.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace argo::transport {
namespace {

// The NUL-padded text of a fixed field: InvalidArgument if it fills the
// field (no terminator), or if anything but NULs follows the terminator
// (a hidden second string would be read differently by different code).
absl::StatusOr<absl::string_view> PaddedText(const char* field, size_t size,
                                             absl::string_view what) {
  const char* end = static_cast<const char*>(std::memchr(field, '\0', size));
  if (end == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("hello: ", what, " is not NUL-terminated"));
  }
  if (std::any_of(end, field + size, [](char c) { return c != '\0'; })) {
    return absl::InvalidArgumentError(
        absl::StrCat("hello: bytes after the end of ", what));
  }
  return absl::string_view(field, end - field);
}

// The toolstack's name alphabet (toolstack Platform::kNameRules holds the
// full rule; here only what a name can never contain).
bool NameChars(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' ||
           c == '_';
  });
}

bool TokenChars(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
  });
}

template <typename T>
bool AllZero(const T& bytes) {
  return std::all_of(std::begin(bytes), std::end(bytes),
                     [](auto b) { return b == 0; });
}

}  // namespace

absl::StatusOr<AttachRequest> DecodeHello(absl::Span<const uint8_t> bytes) {
  if (bytes.size() != sizeof(Hello)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hello: ", bytes.size(), " bytes, expected ", sizeof(Hello)));
  }
  Hello hello;
  std::memcpy(&hello, bytes.data(), sizeof(hello));
  if (hello.magic != kHelloMagic) {
    return absl::InvalidArgumentError("hello: not an Argo attach request");
  }
  if (hello.version != kProtocolVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("hello: protocol version ", hello.version,
                     ", this daemon speaks ", kProtocolVersion));
  }
  AttachRequest request;
  if (hello.mode == static_cast<uint8_t>(Mode::kBlocking)) {
    request.mode = Mode::kBlocking;
    if (hello.vcpus != 1) {
      return absl::InvalidArgumentError("hello: blocking mode has 1 vcpu");
    }
  } else if (hello.mode == static_cast<uint8_t>(Mode::kLowLatency)) {
    request.mode = Mode::kLowLatency;
    if (hello.vcpus < 1 || hello.vcpus > kMaxVcpus) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hello: ", hello.vcpus, " vcpus, expected 1..", kMaxVcpus));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("hello: unknown mode ", hello.mode));
  }
  request.vcpus = hello.vcpus;
  absl::StatusOr<absl::string_view> name =
      PaddedText(hello.name, sizeof(hello.name), "the domain name");
  if (!name.ok()) return name.status();
  absl::StatusOr<absl::string_view> token =
      PaddedText(hello.token, sizeof(hello.token), "the token");
  if (!token.ok()) return token.status();
  if (!name->empty()) {
    if (hello.domid != 0) {
      return absl::InvalidArgumentError(
          "hello: both a domain name and an id");
    }
    if (!NameChars(*name)) {
      return absl::InvalidArgumentError(
          "hello: the domain name has characters no domain name has");
    }
    request.domain = std::string(*name);
  } else {
    if (hello.domid >= DOMID_FIRST_RESERVED) {
      return absl::InvalidArgumentError(
          absl::StrCat("hello: domain id ", hello.domid, " is reserved"));
    }
    request.domain = static_cast<domid_t>(hello.domid);
  }
  if (token->empty() || !TokenChars(*token)) {
    return absl::InvalidArgumentError(
        "hello: the token must be lower-case hex");
  }
  request.token = std::string(*token);
  if (hello.level_cpus > ARGO_LEVEL_MAX_CPUS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hello: a level of ", hello.level_cpus,
        " CPUs, expected 0 (a guest) or 1..", ARGO_LEVEL_MAX_CPUS));
  }
  request.level_cpus = hello.level_cpus;
  if (!AllZero(hello.reserved)) {
    return absl::InvalidArgumentError("hello: reserved bytes are not zero");
  }
  return request;
}

absl::StatusOr<HypercallRequest> DecodeFrame(absl::Span<const uint8_t> bytes,
                                             uint32_t max_vcpu) {
  if (bytes.size() != sizeof(HypercallFrame)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame: ", bytes.size(), " bytes, expected ", sizeof(HypercallFrame)));
  }
  HypercallFrame frame;
  std::memcpy(&frame, bytes.data(), sizeof(frame));
  if (frame.magic != kFrameMagic) {
    return absl::InvalidArgumentError("frame: bad magic");
  }
  if (frame.vcpu > max_vcpu) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame: vcpu ", frame.vcpu, " beyond ", max_vcpu));
  }
  if (frame.reserved != 0) {
    return absl::InvalidArgumentError("frame: reserved field is not zero");
  }
  HypercallRequest request{frame.seq, frame.cmd, frame.vcpu, {}};
  std::copy(std::begin(frame.arg), std::end(frame.arg), request.arg);
  return request;
}

HypercallFrame AnswerFrame(const HypercallRequest& request, int64_t result) {
  HypercallFrame frame{};
  frame.magic = kFrameMagic;
  frame.seq = request.seq;
  frame.cmd = request.cmd;
  frame.vcpu = request.vcpu;
  std::copy(std::begin(request.arg), std::end(request.arg), frame.arg);
  frame.result = result;
  return frame;
}

HypercallFrame RequestFrame(uint32_t seq, uint32_t vcpu, unsigned int cmd,
                            uint64_t a1, uint64_t a2, uint64_t a3,
                            uint64_t a4) {
  HypercallFrame frame{};
  frame.magic = kFrameMagic;
  frame.seq = seq;
  frame.cmd = cmd;
  frame.vcpu = vcpu;
  frame.arg[0] = a1;
  frame.arg[1] = a2;
  frame.arg[2] = a3;
  frame.arg[3] = a4;
  return frame;
}

}  // namespace argo::transport
