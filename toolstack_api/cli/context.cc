#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "toolstack_api/cli/command.h"
#include "toolstack_api/endpoint_text.h"

namespace argo::toolstack::cli {

v1::DomainRef DomainArg(const std::string& text) {
  absl::StatusOr<v1::DomainRef> ref = ParseDomainRef(text);
  if (!ref.ok()) throw UsageError{std::string(ref.status().message())};
  return *ref;
}

v1::Endpoint EndpointArg(const std::string& text) {
  absl::StatusOr<v1::Endpoint> e = ParseEndpoint(text);
  if (!e.ok()) throw UsageError{std::string(e.status().message())};
  return *e;
}

uint32_t PageSizeArg(const Args& args) {
  const std::string text = args.Value("page-size");
  uint32_t size = 0;
  if (!text.empty() && (!absl::SimpleAtoi(text, &size) || size == 0)) {
    throw UsageError{"--page-size takes a positive number"};
  }
  return size;
}

std::string RingOwner(const v1::Ring& ring) {
  return ring.owner_name().empty() ? absl::StrCat(ring.owner())
                                   : ring.owner_name();
}

std::unique_ptr<grpc::ClientContext> Context::Call() const {
  auto call = std::make_unique<grpc::ClientContext>();
  call->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return call;
}

int Context::Failed(const grpc::Status& status) const {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      err_ << "argoctl: cannot reach argo-hv: " << status.error_message()
           << "\n  (is argo-hv running on this socket, and is your uid one "
              "it serves? see argo-hv --help)\n";
      return kUnreachable;
    default:
      break;
  }
  static const char* const kCodes[] = {
      "OK",        "CANCELLED",          "UNKNOWN",
      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS",   "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED",        "OUT_OF_RANGE",
      "UNIMPLEMENTED",    "INTERNAL",          "UNAVAILABLE",
      "DATA_LOSS",        "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  err_ << "argoctl: "
       << (code >= 0 && code <= 16 ? kCodes[code] : "UNKNOWN") << ": "
       << status.error_message() << "\n";
  return kServerError;
}

void Context::PrintJson(const google::protobuf::Message& message,
                        bool one_line) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = !one_line;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options)
           .ok()) {
    text = "{}";
  }
  out_ << text;
  if (text.empty() || text.back() != '\n') out_ << "\n";
}

}  // namespace argo::toolstack::cli
