// A guest process's attachment to its domain (DESIGN §8): the attach
// handshake, the received memory and wake-up channels, and the hypercall
// ports over them. libargo_guest's lowest layer; Guest (guest.h) and the
// C interface (argo_guest.h) sit on it.
#ifndef GUEST_ATTACHMENT_H_
#define GUEST_ATTACHMENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "argo_core/guest/hypercall_port.h"
#include "argo_core/guest_memory.h"
#include "argo_core/public/argo.h"
#include "transport/wire.h"

namespace argo::guest {

struct AttachOptions {
  std::string socket_path;  // the daemon's attach socket
  std::string domain;       // a domain name, or a domid in decimal
  std::string token;        // from domain creation or `argoctl domain token`
  transport::Mode mode = transport::Mode::kBlocking;
  uint32_t vcpus = 1;  // low-latency doorbells (1..8)
  // Low-latency: how long a hypercall spins for its answer before it
  // sleeps; adapts between 1 us and this.
  absl::Duration max_spin = absl::Microseconds(50);
  // 0: a plain guest. 1..ARGO_LEVEL_MAX_CPUS: this process is a child
  // hypervisor level (argo-hv --parent) with that many receive buffers;
  // the daemon marks the domain a child level for as long as it stays
  // attached (nesting::ParentLink then registers the buffers).
  uint32_t level_cpus = 0;
};

class Attachment {
 public:
  // Connects and attaches. Errors a person can act on:
  //   NotFound            the domain does not exist
  //   PermissionDenied    the token is wrong (or stale: reissued)
  //   AlreadyExists       another process is attached to the domain
  //   Unavailable         no daemon at the socket, or it is busy/stopping
  //   InvalidArgument     a bad domain, token, vcpu or level CPU count
  static absl::StatusOr<std::unique_ptr<Attachment>> Attach(
      const AttachOptions& options);
  ~Attachment();  // detaches: the daemon crash-resets the domain

  domid_t domid() const { return domid_; }
  transport::Mode mode() const { return mode_; }
  uint32_t vcpus() const { return static_cast<uint32_t>(ports_.size()); }
  const std::shared_ptr<GuestMemory>& memory() const { return memory_; }

  // The hypercall port of `vcpu` (< vcpus()). One thread per port at a
  // time. A port whose daemon has gone answers -XEN_EIO.
  HypercallPort* port(uint32_t vcpu = 0) { return ports_[vcpu].get(); }

  // Waits for VIRQ_ARGO: true if it was raised (every pending raise is
  // consumed), false on timeout. InfiniteDuration waits for ever;
  // Unavailable if the daemon went away.
  absl::StatusOr<bool> WaitVirq(absl::Duration timeout);
  // The VIRQ wake socket (readable when raised), for a guest's own poll
  // loop: when it polls readable, WaitVirq(ZeroDuration()) takes the VIRQ.
  int virq_fd() const { return virq_fd_; }

 private:
  Attachment() = default;

  int sock_ = -1;
  int virq_fd_ = -1;
  domid_t domid_ = DOMID_INVALID;
  transport::Mode mode_ = transport::Mode::kBlocking;
  std::shared_ptr<GuestMemory> memory_;
  // The shared page: the VIRQ pending flag; low-latency: the slots.
  transport::DoorbellPage* doorbell_ = nullptr;
  std::vector<int> owned_fds_;  // doorbell memfd, kick and answer wake sockets
  std::vector<std::unique_ptr<HypercallPort>> ports_;
};

}  // namespace argo::guest

#endif  // GUEST_ATTACHMENT_H_
