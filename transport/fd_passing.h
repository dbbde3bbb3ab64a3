// One datagram with descriptors attached (SCM_RIGHTS), each way.
#ifndef TRANSPORT_FD_PASSING_H_
#define TRANSPORT_FD_PASSING_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace argo::transport {

// Sends `bytes` and duplicates of `fds` (at most 16) in one datagram,
// without blocking and without SIGPIPE.
absl::Status SendWithFds(int sock, absl::Span<const uint8_t> bytes,
                         absl::Span<const int> fds);

struct Received {
  size_t size;           // bytes of the datagram (truncated to the buffer)
  bool truncated;        // the datagram or its descriptors did not fit
  std::vector<int> fds;  // received descriptors, close-on-exec, now ours
};

// Receives one datagram into `buffer`, accepting at most `max_fds`
// descriptors (extra ones are closed by the kernel and set `truncated`).
// Blocks. size 0 with no error: the peer closed (or reset the connection).
absl::StatusOr<Received> RecvWithFds(int sock, absl::Span<uint8_t> buffer,
                                     size_t max_fds);

}  // namespace argo::transport

#endif  // TRANSPORT_FD_PASSING_H_
