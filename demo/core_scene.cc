// The in-process demo scene of the Argo core: two domains, a ring, messages
// sent and read back through the real hypercall ABI (via libargo_guest), a
// ring filled until EAGAIN, and the space notification that wakes the
// sender. Every line printed is the result of a real call.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "argo_core/guest/argo_guest.h"
#include "argo_core/guest/in_process_port.h"
#include "argo_core/hypervisor.h"
#include "argo_core/virq_recorder.h"
#include "argo_core/xen_status.h"
#include "demo/scene_output.h"

namespace argo::demo {
namespace {

constexpr domid_t kStorage = 1;
constexpr domid_t kClient = 2;
constexpr xen_argo_port_t kStoragePort = 80;
constexpr xen_argo_port_t kClientPort = 7;
constexpr uint32_t kRingLen = 4096;

std::string Flags(uint16_t flags) {
  std::vector<std::string> names;
  if (flags & XEN_ARGO_RING_EXISTS) names.push_back("EXISTS");
  if (flags & XEN_ARGO_RING_SHARED) names.push_back("SHARED");
  if (flags & XEN_ARGO_RING_EMPTY) names.push_back("EMPTY");
  if (flags & XEN_ARGO_RING_SUFFICIENT) names.push_back("SUFFICIENT");
  if (flags & XEN_ARGO_RING_EMSGSIZE) names.push_back("EMSGSIZE");
  if (flags & XEN_ARGO_RING_EBUSY) names.push_back("EBUSY");
  std::string out;
  for (const std::string& n : names)
    absl::StrAppend(&out, out.empty() ? "" : "|", n);
  return out.empty() ? "0" : out;
}

void PrintRings(Hypervisor& hv) {
  Say("  owner port  partner  len   used  waiters  msgs-in bytes-in eagain");
  for (const RingSnapshot& r : hv.ListRings()) {
    std::string partner = r.id.partner_id == XEN_ARGO_DOMID_ANY
                              ? "any"
                              : absl::StrCat("dom", r.id.partner_id);
    Say(absl::StrFormat("  dom%-3d %-5u %-8s %-5u %-5u %-8u %-7u %-8u %u",
                        r.owner, r.id.aport, partner, r.len, r.bytes_used,
                        r.pending.size(), r.counters.messages_in,
                        r.counters.bytes_in, r.counters.eagain));
  }
}

int Run() {
  VirqRecorder virqs;
  Hypervisor hv(HypervisorOptions{}, &virqs);
  Say("== Argo core, in process: one hypervisor, two guests ==");
  for (domid_t d : {kStorage, kClient}) {
    Check(hv.CreateDomain(d, DomainConfig{256, true}));
  }
  Say("created dom1 (storage) and dom2 (client), 1 MiB of guest memory each");

  InProcessPort storage_port(&hv, kStorage), client_port(&hv, kClient);
  auto storage = Must(
      ArgoGuest::Create(&storage_port, hv.DomainMemory(kStorage), kStorage));
  auto client =
      Must(ArgoGuest::Create(&client_port, hv.DomainMemory(kClient), kClient));

  GuestRing* ring =
      Must(storage->RegisterRing(kStoragePort, kClient, kRingLen));
  Say(absl::StrFormat(
      "dom1: register_ring(port %u, partner dom2, len %u) on gfns %s -> 0",
      kStoragePort, kRingLen,
      absl::StrJoin(ring->frames(), ",", [](std::string* out, uint64_t gfn) {
        absl::StrAppend(out, absl::Hex(gfn, absl::kZeroPad4));
      })));

  const xen_argo_addr_t to_storage{kStoragePort, kStorage, 0};
  for (const std::string text : {"hello, storage", "write block 42", "flush"}) {
    std::vector<uint8_t> bytes(text.begin(), text.end());
    uint32_t sent = Must(client->Send(kClientPort, to_storage, bytes, 1));
    Say(
        absl::StrFormat("dom2: sendv \"%s\" to dom1:%u -> %u bytes; VIRQ_ARGO "
                        "on dom1 (total %u)",
                        text, kStoragePort, sent, virqs.Count(kStorage)));
  }
  while (auto message = Must(ring->Read())) {
    Say(absl::StrFormat(
        "dom1: read from dom%u:%u type %u: \"%s\"", message->source.domain_id,
        message->source.aport, message->message_type,
        std::string(message->payload.begin(), message->payload.end())));
  }
  Check(storage->NotifyNull());

  Say("\n== Filling the ring until the hypervisor says EAGAIN ==");
  const std::vector<uint8_t> block(1000, 0xAB);
  int accepted = 0;
  absl::Status full;
  for (;;) {
    absl::StatusOr<uint32_t> sent =
        client->Send(kClientPort, to_storage, block, 2);
    if (!sent.ok()) {
      full = sent.status();
      break;
    }
    ++accepted;
  }
  Say(absl::StrFormat(
      "dom2: %d messages of 1000 bytes accepted, then: %s (Xen errno %d)",
      accepted, full.message(), XenErrnoOf(full)));
  auto query = Must(client->Notify({RingQuery{to_storage, 1000}}));
  Say(absl::StrFormat(
      "dom2: notify asks dom1:%u for 1000 bytes -> flags %s, max message %u",
      kStoragePort, Flags(query[0].flags), query[0].max_message_size));
  PrintRings(hv);

  const uint64_t client_virqs = virqs.Count(kClient);
  int drained = 0;
  while (Must(ring->Read()).has_value()) ++drained;
  Say(absl::StrFormat(
      "dom1: reads %d messages, publishes rx, calls notify(NULL)", drained));
  Check(storage->NotifyNull());
  Say(absl::StrFormat(
      "hypervisor: space for dom2's 1000 bytes -> VIRQ_ARGO on dom2 (%u -> %u)",
      client_virqs, virqs.Count(kClient)));
  uint32_t resent = Must(client->Send(kClientPort, to_storage, block, 2));
  Say(absl::StrFormat("dom2: woken, sendv again -> %u bytes", resent));
  PrintRings(hv);

  Say("\n== Teardown ==");
  Check(hv.DestroyDomain(kStorage));
  Say(absl::StrFormat(
      "dom1 destroyed: %d rings left; dom2's next send -> %s",
      hv.ListRings().size(),
      client->Send(kClientPort, to_storage, block, 2).status().message()));
  return 0;
}

}  // namespace
}  // namespace argo::demo

int main() { return argo::demo::Run(); }
