// SHA-256 (sha256.h) against the known answers of FIPS 180-2 appendix B /
// NIST's SHA examples, and the incremental hasher against the one-shot at
// every split.
#include "toolstack_api/measurement/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace argo::toolstack {
namespace {

constexpr absl::string_view k448Bits =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr absl::string_view k896Bits =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
    "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

TEST(Sha256Test, EmptyMessage) {
  EXPECT_EQ(Sha256ToHex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, OneBlockAbc) {
  EXPECT_EQ(Sha256ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, TwoBlock448BitMessage) {
  ASSERT_EQ(k448Bits.size() * 8, 448u);
  EXPECT_EQ(Sha256ToHex(Sha256(k448Bits)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, Long896BitMessage) {
  ASSERT_EQ(k896Bits.size() * 8, 896u);
  EXPECT_EQ(Sha256ToHex(Sha256(k896Bits)),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256Test, OneMillionAOneShotAndInOddPieces) {
  const std::string a(1000000, 'a');
  constexpr absl::string_view kWant =
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  EXPECT_EQ(Sha256ToHex(Sha256(a)), kWant);
  // Pieces of 1..97 bytes: every alignment against the 64-byte block.
  Sha256Hasher hasher;
  size_t done = 0;
  for (size_t piece = 1; done < a.size(); piece = piece % 97 + 1) {
    const size_t n = std::min(piece, a.size() - done);
    hasher.Update(absl::string_view(a).substr(done, n));
    done += n;
  }
  EXPECT_EQ(Sha256ToHex(hasher.Finish()), kWant);
}

// Lengths around the padding boundaries: 55 bytes pad into one block, 56
// need a second; 63, 64 and 65 straddle a block.
TEST(Sha256Test, EverySplitOfEveryLengthMatchesOneShot) {
  std::string message;
  for (int i = 0; i < 200; ++i) message.push_back(static_cast<char>(i * 37));
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200}) {
    const absl::string_view m = absl::string_view(message).substr(0, len);
    const Sha256Digest want = Sha256(m);
    for (size_t cut = 0; cut <= len; ++cut) {
      Sha256Hasher hasher;
      hasher.Update(m.substr(0, cut));
      hasher.Update(m.substr(cut));
      ASSERT_EQ(hasher.Finish(), want) << "length " << len << " cut " << cut;
    }
    // And three pieces, a second cut after the first.
    for (size_t cut1 = 0; cut1 <= len; cut1 += 7) {
      for (size_t cut2 = cut1; cut2 <= len; cut2 += 5) {
        Sha256Hasher hasher;
        hasher.Update(m.substr(0, cut1));
        hasher.Update(m.substr(cut1, cut2 - cut1));
        hasher.Update(m.substr(cut2));
        ASSERT_EQ(hasher.Finish(), want)
            << "length " << len << " cuts " << cut1 << "," << cut2;
      }
    }
  }
}

TEST(Sha256Test, KnownAnswersSplitAtEveryOffset) {
  for (absl::string_view m : {absl::string_view("abc"), k448Bits, k896Bits}) {
    const Sha256Digest want = Sha256(m);
    for (size_t cut = 0; cut <= m.size(); ++cut) {
      Sha256Hasher hasher;
      hasher.Update(m.substr(0, cut));
      hasher.Update(m.substr(cut));
      ASSERT_EQ(hasher.Finish(), want) << m << " cut at " << cut;
    }
  }
}

TEST(Sha256Test, FinishResetsForTheNextMessage) {
  Sha256Hasher hasher;
  hasher.Update("ab");
  hasher.Update("c");
  EXPECT_EQ(hasher.Finish(), Sha256("abc"));
  EXPECT_EQ(hasher.Finish(), Sha256(""));
  hasher.Update(k448Bits);
  EXPECT_EQ(hasher.Finish(), Sha256(k448Bits));
}

TEST(Sha256Test, HexRoundTripsAndRefusesOtherSpellings) {
  const Sha256Digest d = Sha256("abc");
  const std::string hex = Sha256ToHex(d);
  EXPECT_EQ(Sha256FromHex(hex), d);
  EXPECT_FALSE(Sha256FromHex(hex.substr(1)).has_value());
  EXPECT_FALSE(Sha256FromHex(hex + "0").has_value());
  std::string upper = hex;
  upper[0] = 'B';
  EXPECT_FALSE(Sha256FromHex(upper).has_value());
  std::string bad = hex;
  bad[63] = 'g';
  EXPECT_FALSE(Sha256FromHex(bad).has_value());
  EXPECT_FALSE(Sha256FromHex("").has_value());
  Sha256Digest all{};
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint8_t>(i * 8);
  EXPECT_EQ(Sha256ToHex(all).substr(0, 8), "00081018");
  EXPECT_EQ(Sha256FromHex(Sha256ToHex(all)), all);
}

}  // namespace
}  // namespace argo::toolstack
