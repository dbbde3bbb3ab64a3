#include "argo_core/guest/argo_guest.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "argo_core/argo_limits.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"

namespace argo {
namespace {

uint64_t FramesFor(uint64_t bytes) {
  return (bytes + kPageSize - 1) / kPageSize;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ArgoGuest>> ArgoGuest::Create(
    HypercallPort* port, std::shared_ptr<GuestMemory> memory, domid_t self,
    GuestOptions options) {
  const uint64_t send_frames = FramesFor(options.send_buffer_bytes);
  const uint64_t reserved = 1 + kScratchFrames + send_frames;
  if (memory == nullptr || memory->nframes() <= reserved) {
    return absl::InvalidArgumentError(
        absl::StrCat("guest memory must exceed ", reserved,
                     " frames (NULL page, scratch, send buffer)"));
  }
  return std::unique_ptr<ArgoGuest>(new ArgoGuest(
      port, std::move(memory), self, static_cast<uint32_t>(send_frames)));
}

ArgoGuest::ArgoGuest(HypercallPort* port, std::shared_ptr<GuestMemory> memory,
                     domid_t self, uint32_t send_buffer_frames)
    : port_(port),
      memory_(std::move(memory)),
      self_(self),
      send_buffer_bytes_(send_buffer_frames * kPageSize),
      frames_(1 + kScratchFrames + send_buffer_frames,
              memory_->nframes() - 1 - kScratchFrames - send_buffer_frames) {}

int64_t ArgoGuest::Op(unsigned int cmd, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4) {
  return port_->ArgoOp(cmd, a1, a2, a3, a4);
}

template <typename T>
void ArgoGuest::Put(uint64_t gpa, const T& value) {
  // Scratch offsets are constants inside memory (checked at Create).
  memory_->CopyTo(gpa, &value, sizeof(T));
}

absl::StatusOr<GuestRing*> ArgoGuest::RegisterRing(xen_argo_port_t aport,
                                                   domid_t partner,
                                                   uint32_t len,
                                                   uint32_t flags) {
  if (len < kMinRingSize || len > kMaxRingSize || len % kSlotSize != 0) {
    return XenError(XEN_EINVAL, absl::StrCat("ring length ", len,
                                             " is not a multiple of 16 in ",
                                             kMinRingSize, "..", kMaxRingSize));
  }
  MutexLock l(&mu_);
  const uint64_t npage = NpagesRing(len);
  absl::StatusOr<std::vector<uint64_t>> frames = frames_.Allocate(npage);
  if (!frames.ok()) return frames.status();
  absl::StatusOr<FrameWindow> window = memory_->MapFrames(*frames);
  if (!window.ok()) {
    frames_.Free(*frames);
    return window.status();
  }
  // A fresh ring starts empty: rx = tx = 0.
  std::memset(window->data(), 0, kRingHeaderSize);

  Put(kStructsGpa, xen_argo_register_ring_t{aport, partner, 0, len});
  memory_->CopyTo(kGfnArrayGpa, frames->data(), npage * sizeof(uint64_t));
  int64_t rc =
      Op(XEN_ARGO_OP_register_ring, kStructsGpa, kGfnArrayGpa, npage, flags);
  if (rc < 0) {
    frames_.Free(*frames);
    return XenReturnToStatus(
        rc, absl::StrCat("register ring port ", aport, " partner ", partner,
                         " len ", len));
  }
  rings_.push_back(std::unique_ptr<GuestRing>(new GuestRing(
      aport, partner, len, *std::move(frames), *std::move(window))));
  return rings_.back().get();
}

absl::Status ArgoGuest::UnregisterRing(GuestRing* ring) {
  MutexLock l(&mu_);
  auto it = std::find_if(rings_.begin(), rings_.end(),
                         [ring](const auto& r) { return r.get() == ring; });
  if (it == rings_.end()) {
    return absl::InvalidArgumentError("ring is not registered by this guest");
  }
  Put(kStructsGpa,
      xen_argo_unregister_ring_t{ring->aport(), ring->partner_id(), 0});
  int64_t rc = Op(XEN_ARGO_OP_unregister_ring, kStructsGpa, 0, 0, 0);
  // ENOENT: the hypervisor already dropped it (e.g. the partner died); the
  // frames are ours again either way.
  if (rc < 0 && rc != -XEN_ENOENT) {
    return XenReturnToStatus(rc, "unregister ring");
  }
  frames_.Free(ring->frames());
  rings_.erase(it);
  return XenReturnToStatus(rc, "unregister ring");
}

absl::StatusOr<std::vector<uint64_t>> ArgoGuest::AllocateFrames(uint64_t n) {
  MutexLock l(&mu_);
  return frames_.Allocate(n);
}

void ArgoGuest::FreeFrames(absl::Span<const uint64_t> frames) {
  MutexLock l(&mu_);
  frames_.Free(frames);
}

absl::StatusOr<uint32_t> ArgoGuest::Sendv(
    xen_argo_port_t src_port, xen_argo_addr_t dst,
    absl::Span<const absl::Span<const uint8_t>> parts, uint32_t message_type) {
  if (parts.size() > XEN_ARGO_MAXIOV) {
    return XenError(XEN_EINVAL, absl::StrCat(parts.size(), " iovs exceed ",
                                             XEN_ARGO_MAXIOV));
  }
  uint64_t total = 0;
  for (const auto& part : parts) total += part.size();
  if (total > send_buffer_bytes_) {
    return XenError(XEN_EMSGSIZE,
                    absl::StrCat("message of ", total,
                                 " bytes exceeds the guest send buffer of ",
                                 send_buffer_bytes_));
  }
  MutexLock l(&mu_);
  // The iovs right after the addresses: with one or two iovs, every
  // argument the hypervisor reads besides the payload is in one cache line
  // (a hypervisor on another core fetches one line, not two).
  constexpr uint64_t kIovsGpa = kStructsGpa + sizeof(xen_argo_send_addr_t);
  Put(kStructsGpa, xen_argo_send_addr_t{{src_port, self_, 0}, dst});
  uint64_t at = kSendBufferGpa;
  for (size_t i = 0; i < parts.size(); ++i) {
    memory_->CopyTo(at, parts[i].data(), parts[i].size());
    xen_argo_iov_t iov = {};
    iov.iov_hnd.p = reinterpret_cast<uint8_t*>(at);
    iov.iov_len = static_cast<uint32_t>(parts[i].size());
    Put(kIovsGpa + i * sizeof(xen_argo_iov_t), iov);
    at += parts[i].size();
  }
  int64_t rc = Op(XEN_ARGO_OP_sendv, kStructsGpa, kIovsGpa, parts.size(),
                  message_type);
  if (rc < 0) {
    return XenReturnToStatus(
        rc, absl::StrCat("sendv ", total, " bytes from port ", src_port, " to ",
                         dst.domain_id, ":", dst.aport));
  }
  return static_cast<uint32_t>(rc);
}

absl::StatusOr<uint32_t> ArgoGuest::Send(xen_argo_port_t src_port,
                                         xen_argo_addr_t dst,
                                         absl::Span<const uint8_t> data,
                                         uint32_t message_type) {
  const absl::Span<const uint8_t> parts[] = {data};
  return Sendv(src_port, dst, parts, message_type);
}

int64_t ArgoGuest::Hypercall(unsigned int cmd, uint64_t arg1, uint64_t arg2,
                             uint64_t arg3, uint64_t arg4) {
  MutexLock l(&mu_);
  return Op(cmd, arg1, arg2, arg3, arg4);
}

absl::Status ArgoGuest::NotifyNull() {
  MutexLock l(&mu_);
  return XenReturnToStatus(Op(XEN_ARGO_OP_notify, 0, 0, 0, 0), "notify");
}

absl::StatusOr<std::vector<xen_argo_ring_data_ent_t>> ArgoGuest::Notify(
    absl::Span<const RingQuery> queries) {
  if (queries.size() > kMaxNotifyCount) {
    return XenError(XEN_EACCES,
                    absl::StrCat(queries.size(), " notify entries exceed ",
                                 kMaxNotifyCount));
  }
  MutexLock l(&mu_);
  Put(kRingDataGpa,
      xen_argo_ring_data_t{static_cast<uint32_t>(queries.size()), 0});
  const uint64_t ents = kRingDataGpa + sizeof(xen_argo_ring_data_t);
  for (size_t i = 0; i < queries.size(); ++i) {
    xen_argo_ring_data_ent_t ent = {};
    ent.ring = queries[i].ring;
    ent.space_required = queries[i].space_required;
    Put(ents + i * sizeof(ent), ent);
  }
  int64_t rc = Op(XEN_ARGO_OP_notify, kRingDataGpa, 0, 0, 0);
  if (rc < 0) return XenReturnToStatus(rc, "notify");
  std::vector<xen_argo_ring_data_ent_t> out(queries.size());
  memory_->CopyFrom(ents, out.data(), out.size() * sizeof(out[0]));
  return out;
}

}  // namespace argo
