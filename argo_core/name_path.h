// The path block of a message that crosses levels (public/argo_nesting.h):
// parsing (from untrusted bytes, possibly split across payload pieces),
// pushing a hop, and writing it out. Pure functions; every level's
// forwarder, the guest library and the fuzz target use these.
#ifndef ARGO_CORE_NAME_PATH_H_
#define ARGO_CORE_NAME_PATH_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/types/span.h"
#include "argo_core/public/argo.h"
#include "argo_core/public/argo_nesting.h"
#include "argo_core/traffic_tap.h"

namespace argo {

struct NamePath {
  uint32_t message_type = 0;  // the original message's
  uint32_t dst_port = 0;      // see argo_path_header_t
  uint8_t depth = 0;
  xen_argo_addr_t hops[ARGO_PATH_MAX_DEPTH] = {};  // [0, depth), nearest first

  // The block's size in bytes.
  uint32_t BlockBytes() const { return 16 + 8u * depth; }
  // Makes `hop` the nearest: false (and no change) when the path is full.
  bool Push(const xen_argo_addr_t& hop);
};

// Parses the block at the start of a payload. Returns the block's size, or
// -XEN_EINVAL if the bytes are not a well-formed block (short, wrong magic
// or version, depth 0 or over the maximum, nonzero reserved or pads).
int ParseNamePath(absl::Span<const uint8_t> payload, NamePath* out);
// The same over a payload in pieces (the hypervisor's view of iovs).
int ParseNamePath(absl::Span<const MessagePart> payload, NamePath* out);

// Writes the block; `out` holds at least ARGO_PATH_MAX_BYTES. Returns its
// size.
uint32_t WriteNamePath(const NamePath& path, uint8_t* out);

// "dom3:100/parent:7" for the hops, nearest first (domids as numbers: a
// level does not know the names of other levels' domains).
std::string NamePathText(const NamePath& path);

}  // namespace argo

#endif  // ARGO_CORE_NAME_PATH_H_
