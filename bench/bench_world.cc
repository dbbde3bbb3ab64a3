#include "bench/bench_world.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "argo_core/argo_limits.h"

namespace argo::bench {
namespace {

constexpr uint64_t kRingFirstFrame = 0x20;

}  // namespace

void Die(const std::string& what) {
  std::fprintf(stderr, "bench setup failed: %s\n", what.c_str());
  std::abort();
}

uint64_t SenderFrames(uint32_t payload) {
  return 0x10 + (payload + kPageSize - 1) / kPageSize + 1;
}

// Small messages go through a 64 KiB ring (the common case); large ones
// through a ring just big enough for one, so the bytes the copy touches
// match the memcpy baseline's.
uint32_t RingLenFor(uint32_t payload) {
  uint32_t tight = static_cast<uint32_t>(RoundupMessage(payload)) + 48;
  return std::max<uint32_t>(64 * 1024, tight);
}

std::unique_ptr<nesting::Level> MakeLevel(nesting::LevelOptions options,
                                          CountingNotifier* notifier) {
  options.notifier = notifier;
  auto level = nesting::Level::Create(std::move(options));
  if (!level.ok()) Die(level.status().ToString());
  return *std::move(level);
}

nesting::LevelOptions WithoutAccessControl() {
  nesting::LevelOptions options;
  options.access_control = false;
  return options;
}

SendPair::SendPair(Hypervisor* hv, domid_t sender, domid_t receiver,
                   uint32_t payload, uint32_t niov, Addressing addressing)
    : hv_(hv),
      sender_(sender),
      receiver_(receiver),
      niov_(niov),
      payload_(payload) {
  const uint32_t len = RingLenFor(payload);
  const uint64_t npage = NpagesRing(len);
  if (!hv->CreateDomain(sender, DomainConfig{SenderFrames(payload), true})
           .ok() ||
      !hv->CreateDomain(receiver, DomainConfig{kRingFirstFrame + npage, true})
           .ok()) {
    Die("create domains");
  }
  std::shared_ptr<GuestMemory> rmem = hv->DomainMemory(receiver);
  std::shared_ptr<GuestMemory> smem = hv->DomainMemory(sender);

  // Receiver: register the ring on frames kRingFirstFrame.. and keep a view.
  std::vector<uint64_t> gfns(npage);
  for (uint64_t i = 0; i < npage; ++i) gfns[i] = kRingFirstFrame + i;
  xen_argo_register_ring_t reg{kPort, sender, 0, len};
  rmem->CopyTo(0x1000, &reg, sizeof(reg));
  rmem->CopyTo(0x2000, gfns.data(), gfns.size() * sizeof(uint64_t));
  if (hv->ArgoOp(receiver, XEN_ARGO_OP_register_ring, 0x1000, 0x2000, npage,
                 0) != 0) {
    Die("register ring");
  }
  absl::StatusOr<FrameWindow> window = rmem->MapFrames(gfns);
  if (!window.ok()) Die("map ring");
  window_ = *std::move(window);

  // Sender: send_addr, iovs splitting the payload, the payload itself, and a
  // one-entry notify query about the ring.
  xen_argo_send_addr_t addr{{kSrcPort, sender, 0}, {kPort, receiver, 0}};
  if (addressing == Addressing::kImplicit)
    addr.dst = {0, ARGO_DOMID_IMPLICIT, 0};
  smem->CopyTo(kSendAddrGpa, &addr, sizeof(addr));
  std::vector<uint8_t> bytes(payload);
  for (uint32_t i = 0; i < payload; ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  smem->CopyTo(kPayloadGpa, bytes.data(), bytes.size());
  uint64_t at = 0;
  for (uint32_t i = 0; i < niov; ++i) {
    uint32_t part = payload / niov + (i < payload % niov ? 1 : 0);
    xen_argo_iov_t iov = {};
    iov.iov_hnd.p = reinterpret_cast<uint8_t*>(kPayloadGpa + at);
    iov.iov_len = part;
    smem->CopyTo(kIovGpa + i * sizeof(iov), &iov, sizeof(iov));
    at += part;
  }
  xen_argo_ring_data_t data{1, 0};
  xen_argo_ring_data_ent_t ent = {};
  ent.ring = {kPort, receiver, 0};
  ent.space_required = payload;
  smem->CopyTo(kRingDataGpa, &data, sizeof(data));
  smem->CopyTo(kRingDataGpa + sizeof(data), &ent, sizeof(ent));
  // An empty ring takes messages while one slot stays free.
  const uint64_t cost = kMessageHeaderSize + RoundupMessage(payload);
  sends_per_fill_ =
      static_cast<uint32_t>(std::max<uint64_t>(1, (len - 1) / cost));
}

void SendPair::Warm() {
  for (uint32_t i = 0; i < 2 * sends_per_fill_ + 1; ++i) {
    if (SendDrainingInBatches() != payload_) Die("warm-up send");
  }
}

}  // namespace argo::bench
