#include "guest/cli/message_text.h"

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

}  // namespace
}  // namespace argo::guest::cli
