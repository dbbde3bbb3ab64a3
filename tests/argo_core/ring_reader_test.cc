// The §3.5 receiver protocol, on hand-built ring bytes.
#include "argo_core/ring_reader.h"

#include <cstring>
#include <vector>

#include "argo_core/argo_limits.h"
#include "gtest/gtest.h"

namespace argo {
namespace {

class RingReaderTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kLen = 256;
  RingReaderTest() : storage_(kRingHeaderSize + kLen), reader_(ring(), kLen) {}
  xen_argo_ring_t* ring() {
    return reinterpret_cast<xen_argo_ring_t*>(storage_.data());
  }
  // Writes a message at `at` the way the hypervisor does; returns next tx.
  uint32_t Write(uint32_t at, const std::vector<uint8_t>& payload,
                 uint32_t type) {
    xen_argo_ring_message_header h = {};
    h.len = static_cast<uint32_t>(payload.size()) + 16;
    h.source = {5, 6, 0};
    h.message_type = type;
    std::memcpy(ring()->ring + at, &h, 16);
    uint32_t p = (at + 16) % kLen;
    for (uint8_t b : payload) {
      ring()->ring[p] = b;
      p = (p + 1) % kLen;
    }
    return static_cast<uint32_t>(RoundupMessage(at + h.len) % kLen);
  }
  std::vector<uint8_t> storage_;
  RingReader reader_;
};

TEST_F(RingReaderTest, EmptyRingReadsNothing) {
  EXPECT_EQ(reader_.BytesAvailable(), 0u);
  auto msg = reader_.Read();
  ASSERT_TRUE(msg.ok());
  EXPECT_FALSE(msg->has_value());
}

TEST_F(RingReaderTest, ReadsWrappedPayloadAndAdvancesRx) {
  ring()->rx_ptr = 224;
  std::vector<uint8_t> payload(40);
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<uint8_t>(i + 1);
  ring()->tx_ptr = Write(224, payload, 77);
  EXPECT_EQ(ring()->tx_ptr, 32u);
  EXPECT_EQ(reader_.BytesAvailable(), 64u);
  auto msg = reader_.Read();
  ASSERT_TRUE(msg.ok() && msg->has_value());
  EXPECT_EQ((*msg)->payload, payload);
  EXPECT_EQ((*msg)->message_type, 77u);
  EXPECT_EQ((*msg)->source.aport, 5u);
  EXPECT_EQ(ring()->rx_ptr, 32u);
}

TEST_F(RingReaderTest, ImpossibleHeaderIsDataLossAndResyncs) {
  ring()->rx_ptr = 0;
  ring()->tx_ptr = Write(0, std::vector<uint8_t>(10), 1);
  uint32_t bogus = 1000;
  std::memcpy(ring()->ring, &bogus, 4);
  auto msg = reader_.Read();
  EXPECT_EQ(msg.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ring()->rx_ptr, ring()->tx_ptr);
}

}  // namespace
}  // namespace argo
