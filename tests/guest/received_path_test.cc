// guest::ParseReceivedPath: plain messages, path messages (hops, original
// type and payload) and malformed blocks.
#include "guest/received_path.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "argo_core/public/argo_nesting.h"
#include "argo_core/public/xen_errno.h"
#include "argo_core/xen_status.h"
#include "gtest/gtest.h"

namespace argo::guest {
namespace {

// A path block of dom3:100 / parent:7 (original type 9, dst_port 20)
// followed by `original`.
std::vector<uint8_t> PathPayload(const std::string& original) {
  NamePath path;
  path.message_type = 9;
  path.dst_port = 20;
  path.depth = 2;
  path.hops[0] = xen_argo_addr_t{100, 3, 0};
  path.hops[1] = xen_argo_addr_t{7, ARGO_DOMID_PARENT, 0};
  std::vector<uint8_t> bytes(ARGO_PATH_MAX_BYTES);
  bytes.resize(WriteNamePath(path, bytes.data()));
  bytes.insert(bytes.end(), original.begin(), original.end());
  return bytes;
}

TEST(ReceivedPathTest, PlainMessageHasNoPathEvenIfItLooksLikeABlock) {
  const std::vector<uint8_t> bytes = PathPayload("hello");
  auto got = ParseReceivedPath(9, absl::MakeConstSpan(bytes));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());
  auto empty = ParseReceivedPath(0, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST(ReceivedPathTest, PathMessageGivesHopsOriginalTypeAndPayload) {
  const std::vector<uint8_t> bytes = PathPayload("hello");
  auto got = ParseReceivedPath(ARGO_MSG_TYPE_PATH, absl::MakeConstSpan(bytes));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  const ReceivedPath& r = **got;
  EXPECT_EQ(r.path.message_type, 9u);
  EXPECT_EQ(r.path.dst_port, 20u);
  ASSERT_EQ(r.path.depth, 2);
  EXPECT_EQ(r.path.hops[0].domain_id, 3);
  EXPECT_EQ(r.path.hops[0].aport, 100u);
  EXPECT_EQ(r.path.hops[1].domain_id, ARGO_DOMID_PARENT);
  EXPECT_EQ(r.path.hops[1].aport, 7u);
  EXPECT_EQ(NamePathText(r.path), "dom3:100/parent:7");
  // The original payload is the caller's bytes after the 32-byte block.
  EXPECT_EQ(r.payload.data(), bytes.data() + 32);
  EXPECT_EQ(std::string(r.payload.begin(), r.payload.end()), "hello");
}

TEST(ReceivedPathTest, BlockAloneIsAnEmptyOriginalPayload) {
  const std::vector<uint8_t> bytes = PathPayload("");
  auto got = ParseReceivedPath(ARGO_MSG_TYPE_PATH, absl::MakeConstSpan(bytes));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE((*got)->payload.empty());
}

TEST(ReceivedPathTest, MalformedBlockIsEinvalNotAPlainMessage) {
  std::vector<uint8_t> bad_magic = PathPayload("hello");
  bad_magic[0] ^= 1;
  std::vector<uint8_t> truncated = PathPayload("");
  truncated.pop_back();
  std::vector<uint8_t> depth_nine = PathPayload("");
  depth_nine[12] = ARGO_PATH_MAX_DEPTH + 1;
  for (const std::vector<uint8_t>* bytes :
       {&bad_magic, &truncated, &depth_nine}) {
    auto got =
        ParseReceivedPath(ARGO_MSG_TYPE_PATH, absl::MakeConstSpan(*bytes));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(XenErrnoOf(got.status()), XEN_EINVAL);
    EXPECT_TRUE(absl::StartsWith(got.status().message(),
                                 "EINVAL: malformed path block"))
        << got.status();
  }
  auto empty = ParseReceivedPath(ARGO_MSG_TYPE_PATH, {});
  EXPECT_EQ(XenErrnoOf(empty.status()), XEN_EINVAL);
}

TEST(ReceivedPathTest, ReceivedMessageOverloadPointsIntoItsPayload) {
  const ReceivedMessage m{xen_argo_addr_t{20, ARGO_DOMID_PARENT, 0},
                          ARGO_MSG_TYPE_PATH, PathPayload("hi")};
  auto got = ParseReceivedPath(m);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->payload.data(), m.payload.data() + 32);
  EXPECT_EQ((*got)->payload.size(), 2u);
  const ReceivedMessage plain{xen_argo_addr_t{5, 2, 0}, 3, {'x'}};
  auto none = ParseReceivedPath(plain);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace argo::guest
