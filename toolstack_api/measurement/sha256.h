// SHA-256 (FIPS 180-4 §6.2), written here from the standard's definitions
// so the measured launch log (launch_log.h) needs no crypto library: the
// daemon links only Abseil, gRPC and liburing.
//
// Only what the launch log needs: one hash over bytes given in any number
// of pieces, and hex in and out. Messages are byte strings (no bit-length
// messages); the length is counted in a uint64_t of bytes, so a message
// may be up to 2^61 - 1 bytes (the standard's 2^64 - 1 bits).
//
// Thread safety: a Sha256Hasher is one caller's; the free functions are
// pure.
#ifndef TOOLSTACK_API_MEASUREMENT_SHA256_H_
#define TOOLSTACK_API_MEASUREMENT_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace argo::toolstack {

inline constexpr size_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

// Incremental SHA-256: Update with the message in pieces, then Finish.
// The digest depends only on the concatenation of the pieces, never on
// where they were split.
class Sha256Hasher {
 public:
  Sha256Hasher() { Reset(); }

  void Update(absl::string_view bytes);
  // Pads, hashes the last block(s) and returns the digest; the hasher is
  // then reset and hashes a new message.
  Sha256Digest Finish();

 private:
  static constexpr size_t kBlockBytes = 64;

  void Reset();
  // One 512-bit block of FIPS 180-4 §6.2.2 into state_.
  void Compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;  // H(i)
  // Bytes of a partial block; buffered_ < kBlockBytes between calls.
  std::array<uint8_t, kBlockBytes> buffer_;
  size_t buffered_;
  uint64_t total_bytes_;  // the message length so far
};

// One-shot SHA-256 of `bytes`.
Sha256Digest Sha256(absl::string_view bytes);

// 64 lowercase hex digits, as sha256sum prints them.
std::string Sha256ToHex(const Sha256Digest& digest);
// The digest iff `hex` is exactly 64 lowercase hex digits (the form
// Sha256ToHex writes; anything else, upper case included, is refused so a
// saved log has one spelling per digest).
absl::optional<Sha256Digest> Sha256FromHex(absl::string_view hex);

}  // namespace argo::toolstack

#endif  // TOOLSTACK_API_MEASUREMENT_SHA256_H_
