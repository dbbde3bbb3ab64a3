// One guest connection of the GuestServer (DESIGN §8): its socket, state,
// buffers, shared page and wake channels, and how they are made and
// released. The loop (guest_server.cc) drives it.
#ifndef TRANSPORT_GUEST_CONNECTION_H_
#define TRANSPORT_GUEST_CONNECTION_H_

#include <linux/time_types.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "argo_core/guest_memory.h"
#include "argo_core/public/argo.h"
#include "transport/wire.h"

namespace argo::transport {

// A wake-up channel (wire.h): a datagram socketpair, `local` kept by the
// daemon, `remote` handed to the guest.
struct WakeChannel {
  int local = -1;
  int remote = -1;
};

absl::StatusOr<WakeChannel> MakeWakeChannel();
// One byte on the daemon's end; never blocks or raises SIGPIPE.
void Wake(int local);

// Closes `fd` if open and marks it closed.
void CloseFd(int& fd);

// One accepted connection, from accept to its last completion. Its buffers
// are the kernel's while an operation is in flight: a connection is freed
// only when closing and `inflight` is zero.
struct GuestConnection {
  enum State { kHello, kAttached, kClosing };

  uint64_t id = 0;
  int sock = -1;
  pid_t pid = 0;
  State state = kHello;
  int inflight = 0;

  Mode mode = Mode::kBlocking;
  uint32_t vcpus = 1;
  domid_t domid = DOMID_INVALID;
  std::shared_ptr<GuestMemory> memory;

  // One datagram more than the largest message: a longer one shows as a
  // wrong size instead of passing truncated.
  alignas(8) uint8_t rx[sizeof(Hello) + 1];
  HypercallFrame tx{};
  __kernel_timespec hello_timeout{};

  // The shared page: the VIRQ pending flag; low-latency mode's slots.
  DoorbellPage* doorbell = nullptr;
  int doorbell_fd = -1;
  WakeChannel kick;  // the guest sends, the loop reads
  uint8_t kick_buf[64];
  WakeChannel answer[kMaxVcpus];
  uint32_t served_seq[kMaxVcpus] = {};

  WakeChannel virq;  // local goes to VirqSockets

  GuestConnection() = default;
  GuestConnection(const GuestConnection&) = delete;
  GuestConnection& operator=(const GuestConnection&) = delete;
  // Closes whatever it still holds and unmaps the page.
  ~GuestConnection();

  // The wake channels and the shared page for `mode`/`vcpus`: the VIRQ
  // channel and the page always, the kick and answer channels for
  // low-latency guests.
  absl::Status PrepareChannels();
};


}  // namespace argo::transport

#endif  // TRANSPORT_GUEST_CONNECTION_H_
