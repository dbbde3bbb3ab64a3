#include "guest/cli/message_text.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "argo_core/name_path.h"
#include "argo_core/public/argo_nesting.h"
#include "gtest/gtest.h"

namespace argo::guest::cli {
namespace {

ReceivedMessage Message(std::vector<uint8_t> payload) {
  return ReceivedMessage{xen_argo_addr_t{5, 2, 0}, 3, std::move(payload)};
}

TEST(MessageTextTest, PrintablePayloadIsText) {
  const ReceivedMessage m = Message({'h', 'i', '\n'});
  EXPECT_EQ(HumanLine(m), "from 2:5 type 3 len 3: hi\n");
  EXPECT_EQ(JsonLine(m),
            R"({"src_domain":2,"src_port":5,"type":3,"len":3,"text":"hi\n"})");
}

TEST(MessageTextTest, OneBinaryByteMakesItHex) {
  const ReceivedMessage m = Message({'a', 0x7f});
  EXPECT_EQ(HumanLine(m), "from 2:5 type 3 len 2 hex: 617f");
  EXPECT_EQ(JsonLine(m),
            R"({"src_domain":2,"src_port":5,"type":3,"len":2,"hex":"617f"})");
}

TEST(MessageTextTest, EmptyPayloadIsEmptyText) {
  EXPECT_EQ(HumanLine(Message({})), "from 2:5 type 3 len 0: ");
}

// A message that came down from the parent through dom3:100 and dom5:20:
// a path block (original type 9) before `original`.
ReceivedMessage PathMessage(const std::string& original) {
  NamePath path;
  path.message_type = 9;
  path.dst_port = 7;
  path.depth = 2;
  path.hops[0] = xen_argo_addr_t{100, 3, 0};
  path.hops[1] = xen_argo_addr_t{20, 5, 0};
  std::vector<uint8_t> payload(ARGO_PATH_MAX_BYTES);
  payload.resize(WriteNamePath(path, payload.data()));
  payload.insert(payload.end(), original.begin(), original.end());
  return ReceivedMessage{xen_argo_addr_t{7, ARGO_DOMID_PARENT, 0},
                         ARGO_MSG_TYPE_PATH, std::move(payload)};
}

TEST(MessageTextTest, PathMessageShowsItsPathAndTheOriginal) {
  const ReceivedMessage m = PathMessage("hello");
  EXPECT_EQ(HumanLine(m),
            "from parent:7 path dom3:100/dom5:20 type 9 len 5: hello");
  EXPECT_EQ(JsonLine(m),
            R"({"src_domain":32761,"src_port":7,"type":9,)"
            R"("path":[{"domid":3,"port":100},{"domid":5,"port":20}],)"
            R"("dst_port":7,"len":5,"text":"hello"})");
}

TEST(MessageTextTest, PathMessageWithBinaryOriginalIsHexOfTheOriginalOnly) {
  const ReceivedMessage m = PathMessage(std::string("\x00\xff", 2));
  EXPECT_EQ(HumanLine(m),
            "from parent:7 path dom3:100/dom5:20 type 9 len 2 hex: 00ff");
}

TEST(MessageTextTest, MalformedPathBlockIsMarkedAndShownAsReceived) {
  const ReceivedMessage m{
      xen_argo_addr_t{5, 2, 0}, ARGO_MSG_TYPE_PATH, {0x01, 0x02, 0x03}};
  EXPECT_EQ(HumanLine(m),
            "from 2:5 malformed path block type 1213481296 len 3 hex: 010203");
  EXPECT_EQ(JsonLine(m), R"({"src_domain":2,"src_port":5,"type":1213481296,)"
                         R"("malformed_path":true,"len":3,"hex":"010203"})");
  // A block one byte short of its last hop is malformed, not a shorter path.
  ReceivedMessage truncated = PathMessage("");
  truncated.payload.pop_back();
  EXPECT_TRUE(absl::StartsWith(
      HumanLine(truncated),
      "from parent:7 malformed path block type 1213481296 len 31 hex: "
      "414e5031"))
      << HumanLine(truncated);
}

TEST(MessageTextTest, PlainMessageFromTheParentNamesIt) {
  const ReceivedMessage m{xen_argo_addr_t{7, ARGO_DOMID_PARENT, 0}, 3, {'x'}};
  EXPECT_EQ(HumanLine(m), "from parent:7 type 3 len 1: x");
}

}  // namespace
}  // namespace argo::guest::cli
