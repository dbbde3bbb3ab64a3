// The path block (argo_core/name_path.h, public/argo_nesting.h): the bytes
// WriteNamePath lays down, parse round trips at every depth, Push's limit,
// every way a block can be malformed, and parsing over payload pieces.
#include "argo_core/name_path.h"

#include <cstring>
#include <vector>

#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"

namespace argo {
namespace {

// A path of `depth` distinct hops; every other one came down from a parent.
NamePath PathOfDepth(int depth) {
  NamePath path;
  path.message_type = 9;
  path.dst_port = 0x01020304;
  path.depth = static_cast<uint8_t>(depth);
  for (int i = 0; i < depth; ++i) {
    path.hops[i] = xen_argo_addr_t{
        100u + i, static_cast<domid_t>(i % 2 == 0 ? 3 + i : ARGO_DOMID_PARENT),
        0};
  }
  return path;
}

void ExpectSamePath(const NamePath& got, const NamePath& want) {
  EXPECT_EQ(got.message_type, want.message_type);
  EXPECT_EQ(got.dst_port, want.dst_port);
  ASSERT_EQ(got.depth, want.depth);
  for (int i = 0; i < want.depth; ++i) {
    EXPECT_EQ(got.hops[i].aport, want.hops[i].aport) << "hop " << i;
    EXPECT_EQ(got.hops[i].domain_id, want.hops[i].domain_id) << "hop " << i;
    EXPECT_EQ(got.hops[i].pad, 0) << "hop " << i;
  }
}

// The bytes of a block laid out by hand (not by WriteNamePath), with every
// header field given, so the malformed cases can set any of them.
std::vector<uint8_t> RawBlock(uint32_t magic, uint8_t version, uint8_t depth,
                              uint16_t reserved, int hops) {
  argo_path_header_t header{};
  header.magic = magic;
  header.message_type = 9;
  header.dst_port = 7;
  header.depth = depth;
  header.version = version;
  header.reserved = reserved;
  std::vector<uint8_t> bytes(16 + 8 * hops);
  std::memcpy(bytes.data(), &header, 16);
  for (int i = 0; i < hops; ++i) {
    const xen_argo_addr_t hop{20u + i, static_cast<domid_t>(1 + i), 0};
    std::memcpy(bytes.data() + 16 + 8 * i, &hop, 8);
  }
  return bytes;
}

std::vector<uint8_t> GoodRaw(int depth) {
  return RawBlock(ARGO_PATH_MAGIC, 1, static_cast<uint8_t>(depth), 0, depth);
}

int Parse(const std::vector<uint8_t>& bytes, NamePath* out) {
  return ParseNamePath(absl::MakeConstSpan(bytes), out);
}

TEST(NamePathTest, WriteLaysDownTheDocumentedBytes) {
  NamePath path;
  path.message_type = 0x0A0B0C0D;
  path.dst_port = 7;
  path.depth = 1;
  path.hops[0] = xen_argo_addr_t{0x64, 3, 0};
  uint8_t out[ARGO_PATH_MAX_BYTES];
  ASSERT_EQ(WriteNamePath(path, out), 24u);
  const uint8_t want[24] = {
      'A',  'N',  'P',  '1',              // magic
      0x0D, 0x0C, 0x0B, 0x0A,             // original message type
      7,    0,    0,    0,                // dst_port
      1,                                  // depth
      1,                                  // version
      0,    0,                            // reserved
      0x64, 0,    0,    0,    3, 0, 0, 0  // hops[0] = dom3:100, pad 0
  };
  EXPECT_EQ(std::memcmp(out, want, sizeof(want)), 0);
}

TEST(NamePathTest, RoundTripsAtEveryDepth) {
  for (int depth = 1; depth <= ARGO_PATH_MAX_DEPTH; ++depth) {
    SCOPED_TRACE(depth);
    const NamePath path = PathOfDepth(depth);
    std::vector<uint8_t> bytes(ARGO_PATH_MAX_BYTES);
    const uint32_t n = WriteNamePath(path, bytes.data());
    EXPECT_EQ(n, 16u + 8u * depth);
    EXPECT_EQ(n, path.BlockBytes());
    bytes.resize(n);
    NamePath parsed;
    EXPECT_EQ(Parse(bytes, &parsed), static_cast<int>(n));
    ExpectSamePath(parsed, path);
    // The original payload after the block is not part of it.
    bytes.insert(bytes.end(), {'h', 'e', 'l', 'l', 'o'});
    EXPECT_EQ(Parse(bytes, &parsed), static_cast<int>(n));
    ExpectSamePath(parsed, path);
  }
}

TEST(NamePathTest, PushTakesEightHopsNearestFirstThenRefusesTheNinth) {
  NamePath path;
  for (int i = 0; i < ARGO_PATH_MAX_DEPTH; ++i) {
    ASSERT_TRUE(
        path.Push(xen_argo_addr_t{10u + i, static_cast<domid_t>(i), 0}));
    EXPECT_EQ(path.depth, i + 1);
    EXPECT_EQ(path.hops[0].aport, 10u + i);  // the newest is the nearest
  }
  for (int i = 0; i < ARGO_PATH_MAX_DEPTH; ++i) {
    EXPECT_EQ(path.hops[i].aport, 10u + (ARGO_PATH_MAX_DEPTH - 1 - i));
  }
  const NamePath full = path;
  EXPECT_FALSE(path.Push(xen_argo_addr_t{99, 99, 0}));
  EXPECT_EQ(path.depth, ARGO_PATH_MAX_DEPTH);
  EXPECT_EQ(std::memcmp(path.hops, full.hops, sizeof(full.hops)), 0);
}

TEST(NamePathTest, PushedHopHasItsPadCleared) {
  NamePath path;
  ASSERT_TRUE(path.Push(xen_argo_addr_t{5, 2, 0xBEEF}));
  EXPECT_EQ(path.hops[0].pad, 0);
  uint8_t out[ARGO_PATH_MAX_BYTES];
  const uint32_t n = WriteNamePath(path, out);
  NamePath parsed;
  EXPECT_EQ(ParseNamePath(absl::MakeConstSpan(out, n), &parsed),
            static_cast<int>(n));
}

TEST(NamePathTest, HandBuiltBlockParses) {
  NamePath parsed;
  EXPECT_EQ(Parse(GoodRaw(2), &parsed), 32);
  EXPECT_EQ(parsed.message_type, 9u);
  EXPECT_EQ(parsed.dst_port, 7u);
  ASSERT_EQ(parsed.depth, 2);
  EXPECT_EQ(parsed.hops[1].aport, 21u);
  EXPECT_EQ(parsed.hops[1].domain_id, 2);
}

TEST(NamePathTest, EveryMalformedBlockIsEinvalAndLeavesOutAlone) {
  std::vector<uint8_t> bad_pad = GoodRaw(3);
  bad_pad[16 + 8 * 2 + 6] = 1;  // hops[2].pad
  const std::vector<uint8_t> good3 = GoodRaw(3);
  const struct {
    const char* what;
    std::vector<uint8_t> bytes;
  } cases[] = {
      {"empty", {}},
      {"short header", std::vector<uint8_t>(good3.begin(), good3.begin() + 15)},
      {"bad magic", RawBlock(ARGO_PATH_MAGIC ^ 1, 1, 1, 0, 1)},
      {"version 0", RawBlock(ARGO_PATH_MAGIC, 0, 1, 0, 1)},
      {"version 2", RawBlock(ARGO_PATH_MAGIC, 2, 1, 0, 1)},
      {"reserved set", RawBlock(ARGO_PATH_MAGIC, 1, 1, 0x100, 1)},
      {"depth 0", RawBlock(ARGO_PATH_MAGIC, 1, 0, 0, 1)},
      {"depth 9", RawBlock(ARGO_PATH_MAGIC, 1, 9, 0, 9)},
      {"depth 255", RawBlock(ARGO_PATH_MAGIC, 1, 255, 0, 9)},
      {"truncated hops", std::vector<uint8_t>(good3.begin(), good3.end() - 1)},
      {"header only", RawBlock(ARGO_PATH_MAGIC, 1, 1, 0, 0)},
      {"nonzero hop pad", bad_pad},
  };
  for (const auto& c : cases) {
    NamePath out = PathOfDepth(2);
    EXPECT_EQ(Parse(c.bytes, &out), -XEN_EINVAL) << c.what;
    ExpectSamePath(out, PathOfDepth(2));
  }
}

// The same payload in two pieces, split at every offset, then one byte a
// piece (with an empty piece first): the pieces never change the answer.
TEST(NamePathTest, PiecesSplitAtEveryOffsetParseAsContiguousBytes) {
  std::vector<uint8_t> bytes(ARGO_PATH_MAX_BYTES);
  const NamePath path = PathOfDepth(3);
  bytes.resize(WriteNamePath(path, bytes.data()));
  bytes.insert(bytes.end(), {'h', 'e', 'l', 'l', 'o'});
  std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + 16 + 8 * 3 - 1);
  for (const std::vector<uint8_t>* input : {&bytes, &truncated}) {
    NamePath want;
    const int want_rc = Parse(*input, &want);
    for (size_t k = 0; k <= input->size(); ++k) {
      SCOPED_TRACE(k);
      const MessagePart parts[] = {
          {input->data(), static_cast<uint32_t>(k)},
          {input->data() + k, static_cast<uint32_t>(input->size() - k)}};
      NamePath got;
      ASSERT_EQ(ParseNamePath(absl::MakeConstSpan(parts), &got), want_rc);
      if (want_rc > 0) ExpectSamePath(got, want);
    }
    std::vector<MessagePart> bytewise = {{input->data(), 0}};
    for (size_t i = 0; i < input->size(); ++i) {
      bytewise.push_back({input->data() + i, 1});
    }
    NamePath got;
    ASSERT_EQ(ParseNamePath(absl::MakeConstSpan(bytewise), &got), want_rc);
    if (want_rc > 0) ExpectSamePath(got, want);
  }
  NamePath parsed;
  EXPECT_EQ(Parse(bytes, &parsed), 40);
  EXPECT_EQ(Parse(truncated, &parsed), -XEN_EINVAL);
}

TEST(NamePathTest, TextNamesHopsNearestFirst) {
  NamePath path;
  path.depth = 2;
  path.hops[0] = xen_argo_addr_t{100, 3, 0};
  path.hops[1] = xen_argo_addr_t{7, ARGO_DOMID_PARENT, 0};
  EXPECT_EQ(NamePathText(path), "dom3:100/parent:7");
  path.depth = 1;
  EXPECT_EQ(NamePathText(path), "dom3:100");
  EXPECT_EQ(NamePathText(NamePath{}), "");
}

}  // namespace
}  // namespace argo
