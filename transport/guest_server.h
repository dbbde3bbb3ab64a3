// The daemon's side of guest processes (DESIGN §8): accepts on the attach
// socket, authenticates each guest's Hello through an AttachAuthority,
// hands over its memory, VIRQ pipe and doorbell by SCM_RIGHTS, and then
// serves every attached guest's hypercalls from one io_uring event loop
// (liburing), executing them on the hypervisor as that guest's domain.
//
// The loop (one thread) batches: each pass reaps every completion, runs
// every pending doorbell request, and queues answers and re-armed receives
// as SQEs submitted together with the next wait. Low-latency guests are
// polled for a bounded, adaptive time after the last request before the
// loop sleeps (announcing it in each doorbell page), so a busy guest pays
// no wake-up and an idle system burns no CPU.
//
// Hostile guests: a frame that does not decode ends that guest's
// attachment (a crash of its domain, DESIGN §8); nothing a guest sends can
// reach another guest's state. Per guest the server holds a fixed set of
// descriptors and one page, and serves one request per doorbell slot per
// pass (round-robin: a flooding guest cannot starve the others).
#ifndef TRANSPORT_GUEST_SERVER_H_
#define TRANSPORT_GUEST_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "argo_core/hypervisor.h"
#include "transport/attach_authority.h"
#include "transport/virq_sockets.h"

namespace argo::transport {

struct GuestServerOptions {
  // Peers of another uid are closed before a byte is read (the daemon's
  // own uid is always allowed).
  std::vector<uid_t> allowed_uids;
  // A connection that has not sent its Hello by then is closed.
  absl::Duration hello_timeout = absl::Seconds(2);
  // Connections between accept and Welcome, at most (a slow-loris bound).
  uint32_t max_pending = 64;
  // Attached guests, at most (each holds up to 4 + kMaxVcpus descriptors).
  uint32_t max_guests = 256;
  // The loop's poll of low-latency doorbells after its last work: the
  // budget adapts between these (up when a request arrives while
  // polling, down when a poll ends idle).
  absl::Duration min_server_spin = absl::Microseconds(2);
  absl::Duration max_server_spin = absl::Microseconds(50);
};

class GuestServer {
 public:
  // Serves `listen_fd` (a listening unix SOCK_SEQPACKET socket; borrowed,
  // must outlive the server). Everything passed must outlive the server.
  static absl::StatusOr<std::unique_ptr<GuestServer>> Start(
      int listen_fd, Hypervisor* hypervisor, AttachAuthority* authority,
      VirqSockets* virqs, GuestServerOptions options);
  // Stops the loop; every attached guest is detached (kEvicted).
  ~GuestServer();

  // Ends `domid`'s attachment, if any, and returns once no hypercall of
  // that process can run any more (the authority hears kEvicted). Safe
  // from any thread but the loop's own.
  void Evict(domid_t domid);

  // Guests attached now (for tests and stats).
  uint32_t attached_count() const;

  class Loop;

 private:
  explicit GuestServer(std::unique_ptr<Loop> loop);
  std::unique_ptr<Loop> loop_;
};

}  // namespace argo::transport

#endif  // TRANSPORT_GUEST_SERVER_H_
