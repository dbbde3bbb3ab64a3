// Test support: a domain driven through the raw hypercall entry, with the
// argument structs placed by hand at chosen guest-physical addresses, as a
// guest driver would. Conformance, model and fuzz tests build on it.
#ifndef TESTS_TESTING_RAW_GUEST_H_
#define TESTS_TESTING_RAW_GUEST_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "argo_core/frame_window.h"
#include "argo_core/guest/hypercall_port.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/argo.h"
#include "argo_core/ring_reader.h"

namespace argo::testing {

// Fixed guest-physical layout used by RawGuest's conveniences.
inline constexpr uint64_t kStructGpa = 0x1000;      // one struct at a time
inline constexpr uint64_t kIovGpa = 0x1100;         // up to 8 iovs (and more)
inline constexpr uint64_t kRingDataGpa = 0x2000;    // notify ring_data
inline constexpr uint64_t kGfnGpa = 0x4000;         // up to 4096 gfns
inline constexpr uint64_t kDataGpa = 0x10000;       // send payloads
inline constexpr uint64_t kFirstRingFrame = 0x100;  // frames for rings

// A guest's own reader over a ring it registered.
struct RingView {
  FrameWindow window;
  std::unique_ptr<RingReader> reader;
  xen_argo_ring_t* header() const {
    return reinterpret_cast<xen_argo_ring_t*>(window.data());
  }
};

// Ops go either straight into the hypervisor (in-process) or through a
// HypercallPort (e.g. a transport attachment's, with the attached memory
// view), so the same test can run both ways.
class RawGuest {
 public:
  RawGuest(Hypervisor* hv, domid_t domid);
  // Through `port` (borrowed: must outlive this) as `domid`, whose memory
  // this guest sees through `memory`.
  RawGuest(HypercallPort* port, std::shared_ptr<GuestMemory> memory,
           domid_t domid);

  domid_t domid() const { return domid_; }
  const GuestMemory& memory() const { return *memory_; }

  template <typename T>
  void Put(uint64_t gpa, const T& value) const {
    ASSERT_IN_MEMORY(memory_->CopyTo(gpa, &value, sizeof(T)));
  }
  template <typename T>
  T Get(uint64_t gpa) const {
    T value;
    std::memset(&value, 0, sizeof(T));
    memory_->CopyFrom(gpa, &value, sizeof(T));
    return value;
  }
  void PutBytes(uint64_t gpa, absl::Span<const uint8_t> bytes) const;

  int64_t Op(unsigned int cmd, uint64_t a1, uint64_t a2, uint64_t a3,
             uint64_t a4) const {
    if (port_ != nullptr) return port_->ArgoOp(cmd, a1, a2, a3, a4);
    return hv_->ArgoOp(domid_, cmd, a1, a2, a3, a4);
  }

  // Consecutive frames starting at `first` for a ring of `len`.
  static std::vector<uint64_t> Frames(uint32_t len,
                                      uint64_t first = kFirstRingFrame);
  // register_ring with the struct at kStructGpa and gfns at kGfnGpa.
  int64_t Register(xen_argo_port_t aport, domid_t partner, uint32_t len,
                   const std::vector<uint64_t>& gfns, uint32_t flags = 0) const;
  int64_t Unregister(xen_argo_port_t aport, domid_t partner) const;
  // sendv of `payload` as one iov from kDataGpa (or split into `niov`
  // near-equal iovs).
  int64_t Send(xen_argo_port_t src_port, domid_t dst, xen_argo_port_t dst_port,
               absl::Span<const uint8_t> payload, uint32_t type = 0,
               uint32_t niov = 1) const;
  // notify with a NULL handle.
  int64_t NotifyNull() const { return Op(XEN_ARGO_OP_notify, 0, 0, 0, 0); }
  // notify with entries at kRingDataGpa; the filled entries land in *out.
  int64_t Notify(const std::vector<xen_argo_ring_data_ent_t>& in,
                 std::vector<xen_argo_ring_data_ent_t>* out) const;

  // The guest's own view of a ring on `gfns`.
  RingView View(const std::vector<uint64_t>& gfns, uint32_t len) const;

 private:
  static void ASSERT_IN_MEMORY(bool ok);

  Hypervisor* const hv_ = nullptr;
  HypercallPort* const port_ = nullptr;
  const domid_t domid_;
  const std::shared_ptr<GuestMemory> memory_;
};

// Deterministic payload bytes for (seed, size).
std::vector<uint8_t> Pattern(uint32_t seed, uint32_t size);

}  // namespace argo::testing

#endif  // TESTS_TESTING_RAW_GUEST_H_
