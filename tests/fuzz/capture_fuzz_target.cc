// libFuzzer: a Capture request (a binary argo.toolstack.v1.CaptureRequest)
// through the service's own checks; one that passes runs on a capture hub
// over a small level, and every message it records must match its filter
// and keep at most snap_len bytes. One that fails must fail with
// InvalidArgument or NotFound, never anything else.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "argo_core/hypervisor.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/virq_recorder.h"
#include "tests/testing/raw_guest.h"
#include "toolstack_api/capture/capture_hub.h"
#include "toolstack_api/capture_request.h"
#include "toolstack_api/toolstack.pb.h"

namespace {

using argo::toolstack::Capture;
using argo::toolstack::CapturedMessage;
using argo::toolstack::CaptureHub;
using argo::toolstack::CaptureSpec;

constexpr domid_t kA = 1;
constexpr domid_t kB = 2;

struct World {
  argo::VirqRecorder virqs;
  argo::Hypervisor hv{argo::HypervisorOptions{}, &virqs, nullptr};
  CaptureHub hub{&hv};
  std::unique_ptr<argo::testing::RawGuest> a, b;

  World() {
    for (domid_t d : {kA, kB}) {
      if (!hv.CreateDomain(d, argo::DomainConfig{8192, true}).ok()) std::abort();
    }
    a = std::make_unique<argo::testing::RawGuest>(&hv, kA);
    b = std::make_unique<argo::testing::RawGuest>(&hv, kB);
    if (a->Register(10, XEN_ARGO_DOMID_ANY, 4096,
                    argo::testing::RawGuest::Frames(4096)) != 0) {
      std::abort();
    }
  }
};

// Names "a" and "b" and ids 1, 2 exist; anything else is NotFound.
absl::StatusOr<absl::optional<domid_t>> Resolve(
    bool present, const argo::toolstack::v1::DomainRef& ref) {
  if (!present) return absl::optional<domid_t>();
  if (ref.has_name() && (ref.name() == "a" || ref.name() == "b")) {
    return absl::optional<domid_t>(ref.name() == "a" ? kA : kB);
  }
  if (ref.has_id() && (ref.id() == kA || ref.id() == kB)) {
    return absl::optional<domid_t>(static_cast<domid_t>(ref.id()));
  }
  return absl::NotFoundError("no such domain");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  argo::toolstack::v1::CaptureRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<CaptureSpec> spec =
      argo::toolstack::CaptureSpecFromRequest(request, Resolve);
  if (!spec.ok()) {
    const absl::StatusCode code = spec.status().code();
    if (code != absl::StatusCode::kInvalidArgument &&
        code != absl::StatusCode::kNotFound) {
      std::abort();
    }
    return 0;
  }
  if (spec->filter.snap_len > Capture::kMaxSnapLen ||
      spec->buffer_bytes > CaptureHub::kMaxBufferBytes) {
    std::abort();
  }
  // Small buffers only here: the fuzzer's memory is not the daemon's.
  auto capture = world->hub.Start(spec->filter, 64 * 1024);
  if (!capture.ok()) return 0;  // e.g. a filter that records nothing
  const std::vector<uint8_t> payload(size % 300, 0x42);
  world->b->Send(static_cast<uint32_t>(size % 5), kA, 10, payload,
                 static_cast<uint32_t>(size % 3));
  world->b->Send(3, kA, 11, payload, 1);  // refused: no ring
  std::vector<CapturedMessage> seen;
  while ((*capture)->Drain(&seen, 64) != 0) {
  }
  for (const CapturedMessage& m : seen) {
    if (!spec->filter.Matches(m.record)) std::abort();
    if (m.snapped.size() > spec->filter.snap_len ||
        m.snapped.size() > m.record.payload_len) {
      std::abort();
    }
  }
  // Drain what the queue held so the ring has room for the next input.
  std::vector<uint64_t> frames = argo::testing::RawGuest::Frames(4096);
  argo::testing::RingView view = world->a->View(frames, 4096);
  while (view.reader->BytesAvailable() != 0) (void)view.reader->Read();
  world->hub.Stop(*capture);
  return 0;
}
