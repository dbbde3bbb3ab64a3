// The C interface (argo_guest.h) over guest::Guest: opaque handles own the
// C++ objects; every Status becomes its negated Xen errno at this edge.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "argo_core/xen_status.h"
#include "guest/argo_guest.h"
#include "guest/errors.h"
#include "guest/guest.h"
#include "guest/received_path.h"

struct argo_guest_ring {
  argo::GuestRing* ring;
  // A message taken off the ring that did not fit the caller's buffer: the
  // next read returns it first, so to the caller it was not consumed. (The
  // ring's rx_ptr has moved past it: the space is the sender's again.)
  absl::optional<argo::ReceivedMessage> held;
};

struct argo_guest {
  std::unique_ptr<argo::guest::Guest> guest;
  std::vector<std::unique_ptr<argo_guest_ring>> rings;
};

namespace {

using argo::guest::Guest;

// The negated Xen errno for a failed status: its own if it carries one,
// else the nearest by code (a missing errno would read as success).
int64_t Negated(const absl::Status& status) {
  if (status.ok()) return 0;
  if (int e = argo::XenErrnoOf(status); e != 0) return -e;
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return -XEN_ESRCH;
    case absl::StatusCode::kPermissionDenied:
      return -XEN_EACCES;
    case absl::StatusCode::kAlreadyExists:
      return -XEN_EBUSY;
    case absl::StatusCode::kInvalidArgument:
      return -XEN_EINVAL;
    case absl::StatusCode::kResourceExhausted:
      return -XEN_ENOMEM;
    default:
      return -XEN_EIO;
  }
}

absl::Duration TimeoutOf(int timeout_ms) {
  return timeout_ms < 0 ? absl::InfiniteDuration()
                        : absl::Milliseconds(timeout_ms);
}

absl::Span<const uint8_t> Bytes(const void* data, size_t len) {
  return absl::Span<const uint8_t>(static_cast<const uint8_t*>(data), len);
}

void CopyMessage(char* buf, size_t cap, const std::string& text) {
  if (buf == nullptr || cap == 0) return;
  const size_t n = std::min(cap - 1, text.size());  // room for the NUL
  std::memcpy(buf, text.data(), n);
  buf[n] = '\0';
}

}  // namespace

extern "C" {

int argo_guest_attach(const argo_guest_options_t* options, argo_guest_t** out,
                      char* errbuf, size_t errbuf_len) {
  if (options == nullptr || out == nullptr || options->socket_path == nullptr ||
      options->domain == nullptr || options->token == nullptr) {
    CopyMessage(errbuf, errbuf_len, "socket_path, domain and token are needed");
    return -XEN_EINVAL;
  }
  argo::guest::AttachOptions o;
  o.socket_path = options->socket_path;
  o.domain = options->domain;
  o.token = options->token;
  o.mode = options->mode == ARGO_GUEST_MODE_LOW_LATENCY
               ? argo::transport::Mode::kLowLatency
               : argo::transport::Mode::kBlocking;
  if (options->mode != 0 && options->mode != ARGO_GUEST_MODE_BLOCKING &&
      options->mode != ARGO_GUEST_MODE_LOW_LATENCY) {
    CopyMessage(errbuf, errbuf_len, "mode must be blocking or low-latency");
    return -XEN_EINVAL;
  }
  o.vcpus = options->vcpus == 0 ? 1 : options->vcpus;
  absl::StatusOr<std::unique_ptr<Guest>> guest = Guest::Attach(o);
  if (!guest.ok()) {
    CopyMessage(errbuf, errbuf_len, std::string(guest.status().message()));
    return static_cast<int>(Negated(guest.status()));
  }
  *out = new argo_guest{*std::move(guest), {}};
  return 0;
}

void argo_guest_detach(argo_guest_t* guest) { delete guest; }

int argo_guest_domid(const argo_guest_t* guest) {
  return guest->guest->domid();
}

int argo_guest_virq_fd(const argo_guest_t* guest) {
  // Every C guest is attached (there is no in-process C constructor).
  return guest->guest->attachment()->virq_fd();
}

int argo_guest_alloc_pages(argo_guest_t* guest, uint32_t n, uint64_t* gfns) {
  if (gfns == nullptr) return -XEN_EINVAL;
  absl::StatusOr<std::vector<uint64_t>> got = guest->guest->AllocatePages(n);
  if (!got.ok()) return static_cast<int>(Negated(got.status()));
  std::copy(got->begin(), got->end(), gfns);  // exactly n, as allocated
  return static_cast<int>(n);
}

void argo_guest_free_pages(argo_guest_t* guest, uint32_t n,
                           const uint64_t* gfns) {
  if (gfns == nullptr) return;
  guest->guest->FreePages(absl::MakeConstSpan(gfns, n));
}

void* argo_guest_gpa_to_ptr(argo_guest_t* guest, uint64_t gpa, uint64_t len) {
  return guest->guest->memory().Translate(gpa, len);
}

int argo_guest_register_ring(argo_guest_t* guest, xen_argo_port_t port,
                             domid_t partner, uint32_t len,
                             argo_guest_ring_t** out) {
  if (out == nullptr) return -XEN_EINVAL;
  absl::StatusOr<argo::GuestRing*> ring =
      guest->guest->RegisterRing(port, partner, len);
  if (!ring.ok()) return static_cast<int>(Negated(ring.status()));
  guest->rings.push_back(
      std::make_unique<argo_guest_ring>(argo_guest_ring{*ring, {}}));
  *out = guest->rings.back().get();
  return 0;
}

int argo_guest_unregister_ring(argo_guest_t* guest, argo_guest_ring_t* ring) {
  auto it = std::find_if(guest->rings.begin(), guest->rings.end(),
                         [ring](const auto& r) { return r.get() == ring; });
  if (it == guest->rings.end()) return -XEN_EINVAL;
  const absl::Status status = guest->guest->UnregisterRing(ring->ring);
  // The handle goes on success and on ENOENT (the Guest forgot the ring);
  // on any other error the ring is still registered and the handle stays.
  if (status.ok() || argo::XenErrnoOf(status) == XEN_ENOENT) {
    guest->rings.erase(it);
  }
  return static_cast<int>(Negated(status));
}

int64_t argo_guest_sendv(argo_guest_t* guest, xen_argo_port_t src_port,
                         domid_t dst_domain, xen_argo_port_t dst_port,
                         const argo_guest_iov_t* iov, uint32_t niov,
                         uint32_t message_type) {
  // As the hypervisor answers more than MAXIOV iovs.
  if (niov > XEN_ARGO_MAXIOV || (niov != 0 && iov == nullptr)) {
    return -XEN_EINVAL;
  }
  std::vector<absl::Span<const uint8_t>> parts;
  for (uint32_t i = 0; i < niov; ++i) {
    parts.push_back(Bytes(iov[i].base, iov[i].len));
  }
  absl::StatusOr<uint32_t> sent = guest->guest->Sendv(
      src_port, xen_argo_addr_t{dst_port, dst_domain, 0}, parts, message_type);
  return sent.ok() ? *sent : Negated(sent.status());
}

int64_t argo_guest_send_implicit(argo_guest_t* guest, xen_argo_port_t src_port,
                                 const void* data, size_t len,
                                 uint32_t message_type) {
  absl::StatusOr<uint32_t> sent =
      guest->guest->SendImplicit(src_port, Bytes(data, len), message_type);
  return sent.ok() ? *sent : Negated(sent.status());
}

int64_t argo_guest_send_retry(argo_guest_t* guest, xen_argo_port_t src_port,
                              const xen_argo_addr_t* dst, const void* data,
                              size_t len, uint32_t message_type,
                              int timeout_ms) {
  const xen_argo_addr_t to =
      dst != nullptr ? *dst : argo::guest::kImplicitDestination;
  absl::StatusOr<uint32_t> sent = guest->guest->SendWaitingForSpace(
      src_port, to, Bytes(data, len), message_type, TimeoutOf(timeout_ms));
  return sent.ok() ? *sent : Negated(sent.status());
}

int argo_guest_notify_null(argo_guest_t* guest) {
  return static_cast<int>(Negated(guest->guest->NotifyNull()));
}

int argo_guest_notify_implicit(argo_guest_t* guest, xen_argo_port_t src_port,
                               uint32_t space_required, uint16_t* flags,
                               uint32_t* max_message_size) {
  argo::RingQuery query;
  query.ring = xen_argo_addr_t{src_port, ARGO_DOMID_IMPLICIT, 0};
  query.space_required = space_required;
  absl::StatusOr<std::vector<xen_argo_ring_data_ent_t>> ents =
      guest->guest->Notify(absl::MakeConstSpan(&query, 1));
  if (!ents.ok()) return static_cast<int>(Negated(ents.status()));
  if (flags != nullptr) *flags = (*ents)[0].flags;
  if (max_message_size != nullptr) {
    *max_message_size = (*ents)[0].max_message_size;
  }
  return 0;
}

int argo_guest_wait_virq(argo_guest_t* guest, int timeout_ms) {
  absl::StatusOr<bool> raised = guest->guest->WaitVirq(TimeoutOf(timeout_ms));
  if (!raised.ok()) return -XEN_EIO;
  return *raised ? 1 : 0;
}

int64_t argo_guest_read(argo_guest_ring_t* ring, void* buf, size_t cap,
                        argo_guest_message_info_t* info) {
  if (!ring->held.has_value()) {
    absl::StatusOr<absl::optional<argo::ReceivedMessage>> got =
        ring->ring->Read();
    if (!got.ok()) return -XEN_EFAULT;  // DataLoss: a corrupt header
    if (!got->has_value()) return -XEN_EAGAIN;
    ring->held = *std::move(*got);
  }
  const argo::ReceivedMessage& m = *ring->held;
  const uint32_t len = static_cast<uint32_t>(m.payload.size());
  if (info != nullptr) {
    *info = argo_guest_message_info_t{m.source.domain_id, m.source.aport,
                                      m.message_type, len};
  }
  if (cap < len) return -XEN_EMSGSIZE;  // kept in `held` for the next read
  // len <= cap: the copy fits the caller's buffer.
  if (len != 0) std::memcpy(buf, m.payload.data(), len);
  ring->held.reset();
  return len;
}

int argo_guest_parse_path(const void* payload, uint32_t len,
                          uint32_t message_type, argo_guest_path_t* out) {
  if (out == nullptr || (payload == nullptr && len != 0)) return -XEN_EINVAL;
  absl::StatusOr<absl::optional<argo::guest::ReceivedPath>> got =
      argo::guest::ParseReceivedPath(message_type, Bytes(payload, len));
  if (!got.ok()) return static_cast<int>(Negated(got.status()));
  argo_guest_path_t path{};
  if (!got->has_value()) {
    path.message_type = message_type;
    path.payload_len = len;
  } else {
    const argo::NamePath& p = (*got)->path;
    path.message_type = p.message_type;
    path.dst_port = p.dst_port;
    path.depth = p.depth;
    // p.depth <= ARGO_PATH_MAX_DEPTH: the copy fits path.hops.
    std::copy(p.hops, p.hops + p.depth, path.hops);
    // The original payload is a suffix of the len given bytes.
    path.payload_len = static_cast<uint32_t>((*got)->payload.size());
    path.payload_offset = len - path.payload_len;
  }
  *out = path;
  return static_cast<int>(path.depth);
}

int64_t argo_guest_hypercall(argo_guest_t* guest, unsigned int cmd,
                             uint64_t arg1, uint64_t arg2, uint64_t arg3,
                             uint64_t arg4) {
  return guest->guest->Hypercall(cmd, arg1, arg2, arg3, arg4);
}

const char* argo_strerror(int xen_errno) {
  return argo::guest::XenErrorSummary(xen_errno);
}

}  // extern "C"
