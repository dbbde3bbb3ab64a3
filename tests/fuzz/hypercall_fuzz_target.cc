// libFuzzer target for the hypercall arguments: each input is a sequence of
// argo_op calls from three domains (one without Argo), with argument
// structs, gfn arrays and iovs laid into the caller's memory from the input,
// interleaved with hostile rx_ptr writes, domain destroy/re-create, guest
// crashes (Argo reset), deliveries from host buffers and implicit-
// destination cables (including one up to the parent).
// Invariants: no crash or sanitizer report, every return value is a valid
// hypercall result, and teardown leaves nothing behind.
//
// Speed: one level per setting lives for the whole run, with its
// three domains. Between inputs each domain is reset as after a crash
// (its Argo state goes), its memory zeroed and the cables re-made: what a
// fresh level would look like, without a hypervisor, three memfds and
// their mappings built and torn down per input.
#include <sys/mman.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "argo_core/argo_limits.h"
#include "argo_core/hypervisor.h"
#include "argo_core/public/argo.h"
#include "implicit_dest/implicit_table.h"
#include "nesting/level.h"

namespace argo {
namespace {

constexpr uint64_t kFrames = 64;
constexpr domid_t kDomains[] = {1, 2, 3};  // 3 has no Argo

bool ValidResult(int64_t rc) {
  if (rc >= 0) return rc <= kMaxMessageSize;
  switch (-rc) {
    case XEN_EPERM:
    case XEN_ENOENT:
    case XEN_ESRCH:
    case XEN_EAGAIN:
    case XEN_ENOMEM:
    case XEN_EACCES:
    case XEN_EFAULT:
    case XEN_EBUSY:
    case XEN_EEXIST:
    case XEN_ENODEV:
    case XEN_EINVAL:
    case XEN_ENOSPC:
    case XEN_EMSGSIZE:
    case XEN_EOPNOTSUPP:
    case XEN_ECONNREFUSED:
      return true;
    default:
      return false;
  }
}

// A guest handle: mostly inside the first frames, sometimes anywhere.
uint64_t Handle(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return 0;
    case 1:
      return in.ConsumeIntegralInRange<uint64_t>(0, kFrames * kPageSize + 64);
    default:
      return in.ConsumeIntegralInRange<uint64_t>(0, 8 * kPageSize);
  }
}

uint64_t Number(FuzzedDataProvider& in) {
  return in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 12)
                          : in.ConsumeIntegral<uint64_t>();
}

domid_t Domid(FuzzedDataProvider& in) {
  static constexpr domid_t kChoices[] = {
      1, 2, 3, 4, XEN_ARGO_DOMID_ANY, DOMID_SELF, 0x7FFF};
  return in.ConsumeBool() ? in.PickValueInArray(kChoices)
                          : in.ConsumeIntegral<uint16_t>();
}

// Lays one argument structure into `memory` at a handle from the input.
void Patch(FuzzedDataProvider& in, const GuestMemory& memory) {
  const uint64_t at = Handle(in);
  switch (in.ConsumeIntegralInRange<int>(0, 6)) {
    case 0: {
      xen_argo_register_ring_t reg{
          in.ConsumeIntegralInRange<uint32_t>(0, 4), Domid(in), 0,
          in.PickValueInArray(
              {48u, 64u, 4032u, 8128u, in.ConsumeIntegral<uint32_t>()})};
      memory.CopyTo(at, &reg, sizeof(reg));
      break;
    }
    case 1: {
      xen_argo_send_addr_t addr{
          {in.ConsumeIntegralInRange<uint32_t>(0, 4), Domid(in), 0},
          {in.ConsumeIntegralInRange<uint32_t>(0, 4), Domid(in), 0}};
      memory.CopyTo(at, &addr, sizeof(addr));
      break;
    }
    case 2: {
      xen_argo_iov_t iov = {};
      iov.iov_hnd.p = reinterpret_cast<uint8_t*>(Handle(in));
      iov.iov_len = in.ConsumeBool()
                        ? in.ConsumeIntegralInRange<uint32_t>(0, 9000)
                        : in.ConsumeIntegral<uint32_t>();
      memory.CopyTo(at, &iov, sizeof(iov));
      break;
    }
    case 3: {
      uint64_t gfns[2] = {in.ConsumeIntegralInRange<uint64_t>(8, kFrames),
                          in.ConsumeIntegralInRange<uint64_t>(8, kFrames)};
      memory.CopyTo(at, gfns, sizeof(gfns));
      break;
    }
    case 4: {
      xen_argo_ring_data_t data{in.ConsumeIntegralInRange<uint32_t>(0, 3), 0};
      xen_argo_ring_data_ent_t ent = {};
      ent.ring = {in.ConsumeIntegralInRange<uint32_t>(0, 4), Domid(in), 0};
      ent.space_required = in.ConsumeIntegral<uint32_t>();
      memory.CopyTo(at, &data, sizeof(data));
      memory.CopyTo(at + sizeof(data), &ent, sizeof(ent));
      break;
    }
    case 5: {  // the guest moves rx_ptr of whatever ring header is there
      uint32_t rx = in.ConsumeIntegral<uint32_t>();
      memory.CopyTo(at, &rx, sizeof(rx));
      break;
    }
    default: {
      std::vector<uint8_t> bytes =
          in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 64));
      memory.CopyTo(at, bytes.data(), bytes.size());
      break;
    }
  }
}

}  // namespace
}  // namespace argo

namespace argo {
namespace {

// Four levels: wildcard rings permitted or not, times scattered rings in
// windows or page by page (no mapping budget: the other RingMemory form,
// and no mmap/munmap per ring).
nesting::Level& LevelFor(bool wildcard_rings_permitted, bool windows) {
  static nesting::Level* levels[2][2] = {};
  nesting::Level*& level = levels[wildcard_rings_permitted][windows];
  if (level == nullptr) {
    nesting::LevelOptions options;
    options.access_control = false;
    options.wildcard_rings_permitted = wildcard_rings_permitted;
    if (!windows) options.max_window_segments = 0;
    auto built = nesting::Level::Create(std::move(options));
    if (!built.ok()) std::abort();
    level = built->release();  // lives for the whole run
  }
  return *level;
}

// A message from host buffers, as a nesting forwarder delivers one.
int64_t DeliverFromHost(FuzzedDataProvider& in, Hypervisor& hv) {
  uint8_t bytes[4][256];
  MessagePart parts[4];
  const size_t nparts = in.ConsumeIntegralInRange<size_t>(0, 4);
  for (size_t i = 0; i < nparts; ++i) {
    std::memset(bytes[i], static_cast<int>(i), sizeof(bytes[i]));
    parts[i] = {bytes[i], in.ConsumeIntegralInRange<uint32_t>(0, 256)};
  }
  const HostMessage message{
      .source = {in.ConsumeIntegralInRange<uint32_t>(0, 4), Domid(in), 0},
      .destination = {in.ConsumeIntegralInRange<uint32_t>(0, 4), Domid(in),
                      0},
      .message_type = in.ConsumeIntegral<uint32_t>(),
      .parts = absl::MakeConstSpan(parts, nparts)};
  return hv.DeliverFromHost(message);
}

}  // namespace
}  // namespace argo

namespace argo {
namespace {

// Zeroes the pages of `memory` an input touched. Only resident pages can
// hold anything but zeroes, and writing those neither faults nor (unlike
// punching a hole) makes the kernel flush other CPUs' TLBs.
void ZeroResidentPages(const GuestMemory& memory) {
  uint8_t* base = memory.Translate(0, memory.size_bytes());
  unsigned char resident[kFrames];
  if (memory.nframes() != kFrames ||
      mincore(base, memory.size_bytes(), resident) != 0) {
    std::abort();
  }
  for (uint64_t f = 0; f < kFrames; ++f) {
    if (resident[f] & 1) std::memset(base + f * kPageSize, 0, kPageSize);
  }
}

// Brings `level` back to the start state: the three domains exist with
// zeroed memory and no Argo state, and only the start cables are in.
void Restore(nesting::Level& level) {
  Hypervisor& hv = level.hypervisor();
  for (domid_t d : kDomains) {
    if (!hv.DomainExists(d)) {
      if (!hv.CreateDomain(d, DomainConfig{kFrames, d != 3}).ok()) {
        std::abort();
      }
      continue;
    }
    if (!level.CrashDomain(d).ok()) std::abort();
    ZeroResidentPages(*hv.DomainMemory(d));
  }
  for (const implicit_dest::Cable& c : level.table().List()) {
    level.table().Disconnect(c.from, false).IgnoreError();
  }
  // Ports 0..2 of each domain cabled around; re-created domains lose theirs.
  implicit_dest::ImplicitTable& table = level.table();
  table.Connect({1, 1}, {2, 1}, true).IgnoreError();
  table.Connect({1, 2}, {3, 0}, false).IgnoreError();
  table.Connect({3, 1}, {1, 0}, true).IgnoreError();
  table.Connect({2, 2}, {ARGO_DOMID_PARENT, 4}, false).IgnoreError();
}

}  // namespace
}  // namespace argo

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace argo;
  FuzzedDataProvider in(data, size);
  const bool wildcards = in.ConsumeBool();
  nesting::Level& level = LevelFor(wildcards, in.ConsumeBool());
  Hypervisor& hv = level.hypervisor();
  Restore(level);
  for (int op = 0; op < 96 && in.remaining_bytes() > 0; ++op) {
    const domid_t caller = in.PickValueInArray(kDomains);
    // Out of 24: a quarter memory patches, one destroy + re-create (the
    // costly op: a new memfd, mapping and Domain), two crashes, two host
    // deliveries, the rest hypercalls.
    switch (in.ConsumeIntegralInRange<int>(0, 23)) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5: {
        std::shared_ptr<GuestMemory> memory = hv.DomainMemory(caller);
        Patch(in, *memory);
        break;
      }
      case 6: {
        hv.DestroyDomain(caller).IgnoreError();
        if (!hv.CreateDomain(caller, DomainConfig{kFrames, caller != 3}).ok()) {
          std::abort();
        }
        break;
      }
      case 7:
      case 8: {  // the guest crashed: its Argo state goes, the domain stays
        if (!level.CrashDomain(caller).ok()) std::abort();
        absl::StatusOr<DomainInfo> info = hv.GetDomainInfo(caller);
        if (!info.ok() || info->ring_count != 0 ||
            info->partner_records != 0 || info->wildcard_waits != 0) {
          std::abort();
        }
        break;
      }
      case 9:
      case 10: {
        int64_t rc = DeliverFromHost(in, hv);
        if (!ValidResult(rc) || rc > 4 * 256) std::abort();
        break;
      }
      default: {
        static constexpr unsigned kCmds[] = {1, 2, 3, 4, 1, 3, 3};
        unsigned cmd = in.ConsumeBool() ? in.PickValueInArray(kCmds)
                                        : in.ConsumeIntegral<unsigned>();
        uint64_t a1 = Handle(in), a2 = Handle(in);
        uint64_t a3 = Number(in), a4 = Number(in);
        int64_t rc = hv.ArgoOp(caller, cmd, a1, a2, a3, a4);
        if (!ValidResult(rc)) std::abort();
        break;
      }
    }
  }
  // Teardown leaves nothing behind.
  for (domid_t d : kDomains) {
    if (!level.CrashDomain(d).ok()) std::abort();
  }
  if (!hv.ListRings().empty() || hv.window_segments() != 0 ||
      hv.ListDomains().size() != 3) {
    std::abort();
  }
  return 0;
}
