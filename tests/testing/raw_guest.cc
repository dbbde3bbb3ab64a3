#include "tests/testing/raw_guest.h"

#include <cstdlib>

#include "argo_core/argo_limits.h"

namespace argo::testing {

RawGuest::RawGuest(Hypervisor* hv, domid_t domid)
    : hv_(hv), domid_(domid), memory_(hv->DomainMemory(domid)) {
  if (memory_ == nullptr) std::abort();  // test bug: no such domain
}

RawGuest::RawGuest(HypercallPort* port, std::shared_ptr<GuestMemory> memory,
                   domid_t domid)
    : port_(port), domid_(domid), memory_(std::move(memory)) {
  if (port_ == nullptr || memory_ == nullptr) std::abort();  // test bug
}

void RawGuest::ASSERT_IN_MEMORY(bool ok) {
  if (!ok) std::abort();  // test bug: a fixed layout address is out of range
}

void RawGuest::PutBytes(uint64_t gpa, absl::Span<const uint8_t> bytes) const {
  ASSERT_IN_MEMORY(memory_->CopyTo(gpa, bytes.data(), bytes.size()));
}

std::vector<uint64_t> RawGuest::Frames(uint32_t len, uint64_t first) {
  std::vector<uint64_t> gfns(NpagesRing(len));
  for (size_t i = 0; i < gfns.size(); ++i) gfns[i] = first + i;
  return gfns;
}

int64_t RawGuest::Register(xen_argo_port_t aport, domid_t partner, uint32_t len,
                           const std::vector<uint64_t>& gfns,
                           uint32_t flags) const {
  Put(kStructGpa, xen_argo_register_ring_t{aport, partner, 0, len});
  if (!gfns.empty()) {
    ASSERT_IN_MEMORY(
        memory_->CopyTo(kGfnGpa, gfns.data(), gfns.size() * sizeof(uint64_t)));
  }
  return Op(XEN_ARGO_OP_register_ring, kStructGpa, kGfnGpa, gfns.size(), flags);
}

int64_t RawGuest::Unregister(xen_argo_port_t aport, domid_t partner) const {
  Put(kStructGpa, xen_argo_unregister_ring_t{aport, partner, 0});
  return Op(XEN_ARGO_OP_unregister_ring, kStructGpa, 0, 0, 0);
}

int64_t RawGuest::Send(xen_argo_port_t src_port, domid_t dst,
                       xen_argo_port_t dst_port,
                       absl::Span<const uint8_t> payload, uint32_t type,
                       uint32_t niov) const {
  Put(kStructGpa,
      xen_argo_send_addr_t{{src_port, domid_, 0}, {dst_port, dst, 0}});
  PutBytes(kDataGpa, payload);
  uint64_t at = 0;
  for (uint32_t i = 0; i < niov; ++i) {
    uint64_t len = payload.size() / niov + (i < payload.size() % niov ? 1 : 0);
    xen_argo_iov_t iov = {};
    iov.iov_hnd.p = reinterpret_cast<uint8_t*>(kDataGpa + at);
    iov.iov_len = static_cast<uint32_t>(len);
    Put(kIovGpa + i * sizeof(iov), iov);
    at += len;
  }
  return Op(XEN_ARGO_OP_sendv, kStructGpa, kIovGpa, niov, type);
}

int64_t RawGuest::Notify(const std::vector<xen_argo_ring_data_ent_t>& in,
                         std::vector<xen_argo_ring_data_ent_t>* out) const {
  Put(kRingDataGpa, xen_argo_ring_data_t{static_cast<uint32_t>(in.size()), 0});
  const uint64_t ents = kRingDataGpa + sizeof(xen_argo_ring_data_t);
  for (size_t i = 0; i < in.size(); ++i) Put(ents + i * sizeof(in[i]), in[i]);
  int64_t rc = Op(XEN_ARGO_OP_notify, kRingDataGpa, 0, 0, 0);
  if (out != nullptr) {
    out->resize(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      (*out)[i] = Get<xen_argo_ring_data_ent_t>(ents + i * sizeof(in[i]));
    }
  }
  return rc;
}

RingView RawGuest::View(const std::vector<uint64_t>& gfns, uint32_t len) const {
  absl::StatusOr<FrameWindow> window = memory_->MapFrames(gfns);
  if (!window.ok()) std::abort();
  RingView view{*std::move(window), nullptr};
  view.reader = std::make_unique<RingReader>(view.header(), len);
  return view;
}

std::vector<uint8_t> Pattern(uint32_t seed, uint32_t size) {
  std::vector<uint8_t> out(size);
  uint32_t x = seed * 2654435761u + 1;
  for (uint32_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<uint8_t>(x >> 16);
  }
  return out;
}

}  // namespace argo::testing
