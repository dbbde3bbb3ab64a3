#include "argo_core/name_path.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "argo_core/public/xen_errno.h"

namespace argo {

bool NamePath::Push(const xen_argo_addr_t& hop) {
  if (depth >= ARGO_PATH_MAX_DEPTH) return false;
  for (int i = depth; i > 0; --i) hops[i] = hops[i - 1];
  hops[0] = {hop.aport, hop.domain_id, 0};
  ++depth;
  return true;
}

int ParseNamePath(absl::Span<const uint8_t> payload, NamePath* out) {
  if (payload.size() < sizeof(argo_path_header_t)) return -XEN_EINVAL;
  argo_path_header_t header;
  std::memcpy(&header, payload.data(), sizeof(header));
  if (header.magic != ARGO_PATH_MAGIC || header.version != 1 ||
      header.reserved != 0 || header.depth == 0 ||
      header.depth > ARGO_PATH_MAX_DEPTH) {
    return -XEN_EINVAL;
  }
  const uint32_t bytes = 16 + 8u * header.depth;
  if (payload.size() < bytes) return -XEN_EINVAL;
  NamePath path;
  path.message_type = header.message_type;
  path.dst_port = header.dst_port;
  path.depth = header.depth;
  std::memcpy(path.hops, payload.data() + 16, 8u * header.depth);
  for (int i = 0; i < path.depth; ++i) {
    if (path.hops[i].pad != 0) return -XEN_EINVAL;
  }
  *out = path;
  return static_cast<int>(bytes);
}

int ParseNamePath(absl::Span<const MessagePart> payload, NamePath* out) {
  // Gathers at most a full block's bytes, then parses those.
  uint8_t block[ARGO_PATH_MAX_BYTES];
  const uint32_t n = TrafficTap::CopyPayload(payload, block, sizeof(block));
  return ParseNamePath(absl::MakeConstSpan(block, n), out);
}

uint32_t WriteNamePath(const NamePath& path, uint8_t* out) {
  argo_path_header_t header{};
  header.magic = ARGO_PATH_MAGIC;
  header.message_type = path.message_type;
  header.dst_port = path.dst_port;
  header.depth = path.depth;
  header.version = 1;
  std::memcpy(out, &header, sizeof(header));
  std::memcpy(out + 16, path.hops, 8u * path.depth);
  return path.BlockBytes();
}

std::string NamePathText(const NamePath& path) {
  std::string text;
  for (int i = 0; i < path.depth; ++i) {
    const xen_argo_addr_t& hop = path.hops[i];
    absl::StrAppend(&text, i == 0 ? "" : "/",
                    hop.domain_id == ARGO_DOMID_PARENT
                        ? std::string("parent")
                        : absl::StrCat("dom", hop.domain_id),
                    ":", hop.aport);
  }
  return text;
}

}  // namespace argo
