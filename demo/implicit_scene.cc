// The implicit-destination scene (DESIGN §4, §5): two clients send "to my
// storage" naming only their source port; the toolstack has cabled those
// ports; storage reads each message with the real sender in its header.
// Under the strict policy a client's explicit send is refused (EACCES) and
// the audit log shows it. Every line printed is the result of a real call.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "argo_core/guest/argo_guest.h"
#include "argo_core/guest/in_process_port.h"
#include "argo_core/hypervisor.h"
#include "argo_core/virq_recorder.h"
#include "argo_core/xen_status.h"
#include "demo/scene_output.h"
#include "implicit_dest/implicit_table.h"
#include "implicit_dest/policy/policy_engine.h"
#include "implicit_dest/route_explainer.h"
#include "nesting/level.h"

namespace argo::demo {
namespace {

using implicit_dest::Endpoint;

constexpr domid_t kStorage = 1, kClientA = 2, kClientB = 3;
constexpr xen_argo_port_t kStoragePort = 80;
constexpr xen_argo_port_t kMyStorage = 7;  // the clients' well-known port
constexpr xen_argo_addr_t kImplicit{0, ARGO_DOMID_IMPLICIT, 0};

std::string Text(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::vector<uint8_t> Bytes(const std::string& text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::string ReadFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return "";
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0)
    out.append(buffer, n);
  std::fclose(f);
  return out;
}

int Run(const std::string& strict_policy_path) {
  VirqRecorder virqs;
  nesting::LevelOptions options;
  options.notifier = &virqs;
  std::unique_ptr<nesting::Level> level =
      Must(nesting::Level::Create(std::move(options)));
  Hypervisor& hv = level->hypervisor();
  implicit_dest::ImplicitTable& table = level->table();
  policy::PolicyEngine* policy = level->policy();

  Say("== Implicit destinations: clients send \"to my storage\" ==");
  Say("policy: the embedded default (no access control)");
  for (domid_t d : {kStorage, kClientA, kClientB}) {
    Check(hv.CreateDomain(d, DomainConfig{256, true}));
  }
  InProcessPort storage_port(&hv, kStorage), a_port(&hv, kClientA),
      b_port(&hv, kClientB);
  auto storage = Must(
      ArgoGuest::Create(&storage_port, hv.DomainMemory(kStorage), kStorage));
  auto a =
      Must(ArgoGuest::Create(&a_port, hv.DomainMemory(kClientA), kClientA));
  auto b =
      Must(ArgoGuest::Create(&b_port, hv.DomainMemory(kClientB), kClientB));

  GuestRing* inbox =
      Must(storage->RegisterRing(kStoragePort, XEN_ARGO_DOMID_ANY, 8192));
  Say(absl::StrFormat("dom1 (storage): wildcard ring on port %u",
                      kStoragePort));
  Check(table.Connect({kClientA, kMyStorage}, {kStorage, kStoragePort}, true));
  Check(table.Connect({kClientB, kMyStorage}, {kStorage, kStoragePort}, false));
  for (const auto& cable : table.List()) {
    Say(absl::StrCat("toolstack: cable ",
                     implicit_dest::EndpointName(cable.from), " -> ",
                     implicit_dest::EndpointName(cable.to)));
  }
  Say(level->Explain({kClientB, kMyStorage}).Describe());

  Must(a->Send(kMyStorage, kImplicit, Bytes("read block 7"), 1));
  Say("dom2: sendv from port 7 to the implicit destination -> ok");
  Must(b->Send(kMyStorage, kImplicit, Bytes("write block 9"), 2));
  Say("dom3: sendv from port 7 to the implicit destination -> ok");
  while (auto message = Must(inbox->Read())) {
    Say(absl::StrFormat(
        "dom1 reads \"%s\" from dom%u:%u (stamped by the hypervisor)",
        Text(message->payload), message->source.domain_id,
        message->source.aport));
  }
  Check(storage->NotifyNull());

  // Storage replies to A over the reverse half of A's cable, implicitly.
  GuestRing* a_inbox = Must(a->RegisterRing(kMyStorage, kStorage, 4096));
  Must(storage->Send(kStoragePort, kImplicit, Bytes("block 7: 0xCAFE"), 3));
  auto reply = Must(a_inbox->Read());
  Say(absl::StrFormat("dom2 reads reply \"%s\" from dom%u:%u",
                      Text(reply->payload), reply->source.domain_id,
                      reply->source.aport));
  auto uncabled = b->Send(9, kImplicit, Bytes("?"), 0).status();
  Say(absl::StrCat("dom3: sendv from uncabled port 9 -> ", uncabled.message()));

  Say("\n== The strict policy: clients limited to implicit destinations ==");
  std::string strict = ReadFile(strict_policy_path);
  if (strict.empty()) {
    std::fprintf(stderr, "demo failed: cannot read %s\n",
                 strict_policy_path.c_str());
    return 1;
  }
  Check(policy->Load(strict, "strict.textproto"));
  Check(policy->Relabel(kStorage, "storage_t"));
  Check(policy->Relabel(kClientA, "client_t"));
  Check(policy->Relabel(kClientB, "client_t"));
  Say(absl::StrFormat(
      "policy: strict.textproto loaded (generation %u); dom1 is "
      "storage_t, dom2 and dom3 client_t",
      policy->generation()));
  Must(a->Send(kMyStorage, kImplicit, Bytes("read block 8"), 1));
  Say("dom2: implicit sendv to its storage -> ok");
  auto explicit_send = a->Send(
      kMyStorage, xen_argo_addr_t{kStoragePort, kStorage, 0}, Bytes("x"), 0);
  Say(absl::StrFormat("dom2: explicit sendv to dom1:%u -> %s (Xen errno %d)",
                      kStoragePort, explicit_send.status().message(),
                      XenErrnoOf(explicit_send.status())));
  Check(table.Connect({kClientB, 8}, {kClientA, kMyStorage}, false));
  Say(level->Explain({kClientB, 8})
          .Describe());
  Say("audit log:");
  for (const policy::Denial& denial : policy->audit().Recent(10)) {
    Say(absl::StrFormat("  #%u %s", denial.sequence, denial.Describe()));
  }
  return 0;
}

}  // namespace
}  // namespace argo::demo

int main(int argc, char** argv) {
  return argo::demo::Run(argc > 1 ? argv[1]
                                  : "implicit_dest/policy/strict.textproto");
}
