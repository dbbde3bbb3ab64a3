// Fuzzes the transport's decoders of hostile bytes (transport/wire.h): every
// input goes through DecodeHello and DecodeFrame. Invariants:
//   - a hello that decodes is exactly the Hello its request encodes back to
//     (so nothing the decoder ignored could mean something), with a name and
//     token inside their alphabets and lengths;
//   - a frame that decodes round-trips through AnswerFrame: the answer
//     decodes to the same request, with the result in place and reserved 0.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/types/span.h"
#include "absl/types/variant.h"
#include "argo_core/public/argo_nesting.h"
#include "transport/wire.h"

namespace {

using argo::transport::AttachRequest;
using argo::transport::Hello;
using argo::transport::HypercallFrame;
using argo::transport::HypercallRequest;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool InAlphabet(const std::string& s, bool hex) {
  for (char c : s) {
    const bool digit = c >= '0' && c <= '9';
    const bool ok = hex ? digit || (c >= 'a' && c <= 'f')
                        : digit || (c >= 'a' && c <= 'z') || c == '-' ||
                              c == '_';
    if (!ok) return false;
  }
  return true;
}

void CheckHello(absl::Span<const uint8_t> bytes) {
  absl::StatusOr<AttachRequest> request = argo::transport::DecodeHello(bytes);
  if (!request.ok()) return;
  Check(bytes.size() == sizeof(Hello));
  Check(request->vcpus >= 1 && request->vcpus <= argo::transport::kMaxVcpus);
  Check(request->mode != argo::transport::Mode::kBlocking ||
        request->vcpus == 1);
  Check(!request->token.empty() &&
        request->token.size() < argo::transport::kTokenBytes &&
        InAlphabet(request->token, /*hex=*/true));
  Hello again{};
  again.magic = argo::transport::kHelloMagic;
  again.version = argo::transport::kProtocolVersion;
  again.mode = static_cast<uint8_t>(request->mode);
  again.vcpus = static_cast<uint8_t>(request->vcpus);
  Check(request->level_cpus <= ARGO_LEVEL_MAX_CPUS);
  again.level_cpus = static_cast<uint8_t>(request->level_cpus);
  if (absl::holds_alternative<std::string>(request->domain)) {
    const std::string& name = absl::get<std::string>(request->domain);
    Check(!name.empty() && name.size() < argo::transport::kNameBytes &&
          InAlphabet(name, /*hex=*/false));
    std::memcpy(again.name, name.data(), name.size());
  } else {
    const domid_t id = absl::get<domid_t>(request->domain);
    Check(id < DOMID_FIRST_RESERVED);
    again.domid = id;
  }
  std::memcpy(again.token, request->token.data(), request->token.size());
  Check(std::memcmp(&again, bytes.data(), sizeof(again)) == 0);
}

void CheckFrame(absl::Span<const uint8_t> bytes, uint32_t max_vcpu) {
  absl::StatusOr<HypercallRequest> request =
      argo::transport::DecodeFrame(bytes, max_vcpu);
  if (!request.ok()) return;
  Check(bytes.size() == sizeof(HypercallFrame));
  Check(request->vcpu <= max_vcpu);
  HypercallFrame in;
  std::memcpy(&in, bytes.data(), sizeof(in));
  Check(in.magic == argo::transport::kFrameMagic && in.reserved == 0);
  Check(request->seq == in.seq && request->cmd == in.cmd);
  const int64_t result = -static_cast<int64_t>(in.seq % 200);
  const HypercallFrame answer = argo::transport::AnswerFrame(*request, result);
  Check(answer.result == result && answer.reserved == 0);
  Check(std::memcmp(answer.arg, in.arg, sizeof(in.arg)) == 0);
  absl::StatusOr<HypercallRequest> again = argo::transport::DecodeFrame(
      {reinterpret_cast<const uint8_t*>(&answer), sizeof(answer)}, max_vcpu);
  Check(again.ok());
  Check(again->seq == request->seq && again->cmd == request->cmd &&
        again->vcpu == request->vcpu &&
        std::memcmp(again->arg, request->arg, sizeof(request->arg)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> bytes(data, size);
  CheckHello(bytes);
  // The server's two bounds: blocking (vcpu 0 only) and a full doorbell.
  CheckFrame(bytes, 0);
  CheckFrame(bytes, argo::transport::kMaxVcpus - 1);
  return 0;
}
