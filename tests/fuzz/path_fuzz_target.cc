// Fuzzes the parser of path blocks (argo_core/name_path.h), which every
// level and every guest runs on bytes from other levels. Each input is
// parsed as contiguous bytes and in pieces; the guest's view
// (guest/received_path.h) reads it as a PATH message. Invariants:
//   - the pieces never change the answer: two pieces split at every offset
//     up to a block and a byte, and one byte a piece after an empty piece,
//     give the contiguous result (the same size or -EINVAL, the same path);
//   - a block that parses is 16 + 8 * depth bytes with 1 <= depth <= 8 and
//     every hop's pad 0, and WriteNamePath of it lays down exactly the
//     input's bytes (so nothing the parser ignored could mean something),
//     which parse back to the same path;
//   - Push fills the path to 8 hops, never beyond: each push keeps the
//     older hops behind the new nearest one, the pad cleared;
//   - the guest's view fails iff the parser does, and its original payload
//     is exactly the bytes after the block.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/types/span.h"
#include "argo_core/name_path.h"
#include "argo_core/public/argo_nesting.h"
#include "argo_core/public/xen_errno.h"
#include "guest/received_path.h"

namespace {

using argo::MessagePart;
using argo::NamePath;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool SamePath(const NamePath& a, const NamePath& b) {
  if (a.message_type != b.message_type || a.dst_port != b.dst_port ||
      a.depth != b.depth) {
    return false;
  }
  // 8-byte hops with no padding inside: equal iff their bytes are.
  return std::memcmp(a.hops, b.hops, sizeof(a.hops[0]) * a.depth) == 0;
}

// The parse of `pieces` agrees with the contiguous parse (rc, path).
void CheckPieces(absl::Span<const MessagePart> pieces, int rc,
                 const NamePath& path) {
  NamePath got;
  Check(argo::ParseNamePath(pieces, &got) == rc);
  if (rc >= 0) Check(SamePath(got, path));
}

void CheckWellFormed(absl::Span<const uint8_t> bytes, int rc,
                     const NamePath& path) {
  Check(path.depth >= 1 && path.depth <= ARGO_PATH_MAX_DEPTH);
  Check(rc == static_cast<int>(path.BlockBytes()));
  Check(static_cast<size_t>(rc) <= bytes.size());
  for (int i = 0; i < path.depth; ++i) Check(path.hops[i].pad == 0);
  uint8_t written[ARGO_PATH_MAX_BYTES];
  Check(argo::WriteNamePath(path, written) == path.BlockBytes());
  Check(std::memcmp(written, bytes.data(), path.BlockBytes()) == 0);
  NamePath again;
  Check(argo::ParseNamePath(absl::MakeConstSpan(written, path.BlockBytes()),
                            &again) == rc);
  Check(SamePath(again, path));
}

// Pushes hops taken from the input until Push refuses.
void CheckPush(const NamePath& parsed, absl::Span<const uint8_t> bytes) {
  NamePath path = parsed;
  int pushed = 0;
  for (int i = 0; i <= ARGO_PATH_MAX_DEPTH; ++i) {
    xen_argo_addr_t hop{};
    const size_t at = (8 * static_cast<size_t>(i)) % (bytes.size() + 1);
    std::memcpy(&hop, bytes.data() + at,
                std::min<size_t>(8, bytes.size() - at));
    const NamePath before = path;
    if (!path.Push(hop)) {
      Check(before.depth == ARGO_PATH_MAX_DEPTH);
      Check(SamePath(path, before));
      break;
    }
    ++pushed;
    Check(path.depth == before.depth + 1);
    Check(path.depth <= ARGO_PATH_MAX_DEPTH);
    Check(path.hops[0].aport == hop.aport &&
          path.hops[0].domain_id == hop.domain_id && path.hops[0].pad == 0);
    Check(std::memcmp(path.hops + 1, before.hops,
                      sizeof(before.hops[0]) * before.depth) == 0);
  }
  Check(pushed == ARGO_PATH_MAX_DEPTH - parsed.depth);
  Check(path.depth == ARGO_PATH_MAX_DEPTH);
}

void CheckGuestView(absl::Span<const uint8_t> bytes, int rc,
                    const NamePath& path) {
  auto view = argo::guest::ParseReceivedPath(ARGO_MSG_TYPE_PATH, bytes);
  Check(view.ok() == (rc >= 0));
  if (!view.ok()) return;
  Check(view->has_value() && SamePath((*view)->path, path));
  Check((*view)->payload.data() == bytes.data() + rc &&
        (*view)->payload.size() == bytes.size() - static_cast<size_t>(rc));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy, so even an empty input has a valid pointer for its pieces.
  const std::vector<uint8_t> copy(data, data + size);
  const uint8_t* base =
      copy.empty() ? reinterpret_cast<const uint8_t*>("") : copy.data();
  const absl::Span<const uint8_t> bytes(base, size);
  NamePath path;
  const int rc = argo::ParseNamePath(bytes, &path);
  Check(rc >= 0 || rc == -XEN_EINVAL);

  const size_t last_split = std::min<size_t>(size, ARGO_PATH_MAX_BYTES + 1);
  for (size_t k = 0; k <= last_split; ++k) {
    const MessagePart two[] = {{base, static_cast<uint32_t>(k)},
                               {base + k, static_cast<uint32_t>(size - k)}};
    CheckPieces(two, rc, path);
  }
  std::vector<MessagePart> bytewise = {{base, 0}};
  for (size_t i = 0; i < size; ++i) bytewise.push_back({base + i, 1});
  CheckPieces(bytewise, rc, path);

  CheckGuestView(bytes, rc, path);
  if (rc < 0) return 0;
  CheckWellFormed(bytes, rc, path);
  CheckPush(path, bytes);
  return 0;
}
