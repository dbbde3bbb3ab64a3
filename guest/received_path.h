// guest::ReceivedPath: a received message read through its path block
// (DESIGN §7, argo_core/public/argo_nesting.h). A message that crossed
// hypervisor levels arrives with message_type ARGO_MSG_TYPE_PATH, its
// source the hop that delivered it at this level, and a payload that
// starts with the block; the sender's name relative to this guest is then
// "source / hops[0] / ... / hops[depth-1]". Every other message is plain.
//
// The block comes from other levels, so it is parsed as hostile bytes: a
// PATH message whose block is not well formed is an error, never a plain
// message and never a partial path.
#ifndef GUEST_RECEIVED_PATH_H_
#define GUEST_RECEIVED_PATH_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "argo_core/name_path.h"
#include "argo_core/ring_reader.h"

namespace argo::guest {

struct ReceivedPath {
  // path.message_type is the original message's type, path.dst_port the
  // block's (see argo_path_header_t), path.hops[0, depth) nearest first;
  // 1 <= path.depth <= ARGO_PATH_MAX_DEPTH.
  NamePath path;
  // The original payload: the bytes after the block, inside the payload
  // given to ParseReceivedPath (valid as long as those bytes are).
  absl::Span<const uint8_t> payload;
};

// nullopt iff `message_type` is not ARGO_MSG_TYPE_PATH (a plain message:
// its type and payload are the original ones). For a PATH message, the
// path and the original payload, or InvalidArgument (XenErrnoOf: EINVAL)
// if `payload` does not start with a well-formed block.
absl::StatusOr<absl::optional<ReceivedPath>> ParseReceivedPath(
    uint32_t message_type, absl::Span<const uint8_t> payload);
// The same for a message read from a ring; the span points into m.payload.
absl::StatusOr<absl::optional<ReceivedPath>> ParseReceivedPath(
    const ReceivedMessage& m);

}  // namespace argo::guest

#endif  // GUEST_RECEIVED_PATH_H_
