#include "toolstack_api/capture/pcapng_writer.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "toolstack_api/capture/capture_record.h"

namespace argo::toolstack::capture {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

constexpr size_t kShbLen = 28;
constexpr size_t kIdbLen = 40;
constexpr size_t kEpbFixedLen = 32;  // type, 2 lengths, if, ts x2, cap, orig

uint32_t U32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(b[at + i]);
  return v;
}

uint16_t U16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) |
                               static_cast<uint8_t>(b[at + 1]) << 8);
}

std::vector<uint8_t> Bytes(const std::string& b, size_t at, size_t n) {
  return std::vector<uint8_t>(b.begin() + at, b.begin() + at + n);
}

CaptureRecordFields Sample() {
  CaptureRecordFields r;
  r.unix_nanos = 0x0123456789ABCDEFull;
  r.flags = kCaptureFlagImplicit | kCaptureFlagWildcard;
  r.message_type = 0xA1B2C3D4;
  r.src_port = 7;
  r.src_domid = 2;
  r.dst_domid = 1;
  r.dst_port = 80;
  r.ring_partner = 0x7FF4;
  r.xen_errno = 0;
  r.payload_len = 13;
  return r;
}

const std::vector<uint8_t> kThirteen = {'h', 'e', 'l', 'l', 'o', ',', ' ',
                                        'w', 'o', 'r', 'l', 'd', '!'};

TEST(PcapngWriterTest, HeaderIsLittleEndianShbThenUser0IdbWithNsResolution) {
  std::ostringstream out;
  PcapngWriter w(&out);
  ASSERT_TRUE(w.WriteHeader(256).ok());
  const std::string b = out.str();
  ASSERT_EQ(b.size(), kShbLen + kIdbLen);

  // SHB: type, length, magic, 1.0, section length -1, length again.
  EXPECT_EQ(U32(b, 0), 0x0A0D0D0Au);
  EXPECT_EQ(U32(b, 4), kShbLen);
  EXPECT_THAT(Bytes(b, 8, 4), ElementsAre(0x4D, 0x3C, 0x2B, 0x1A));
  EXPECT_EQ(U16(b, 12), 1);
  EXPECT_EQ(U16(b, 14), 0);
  EXPECT_THAT(Bytes(b, 16, 8), ElementsAreArray(std::vector<uint8_t>(8, 0xFF)));
  EXPECT_EQ(U32(b, 24), kShbLen);

  // IDB: link type 147, snaplen 256 + 40, if_name "argo", if_tsresol 9
  // (padded to 4), end of options, length again.
  const size_t i = kShbLen;
  EXPECT_EQ(U32(b, i), 1u);
  EXPECT_EQ(U32(b, i + 4), kIdbLen);
  EXPECT_EQ(U16(b, i + 8), 147);
  EXPECT_EQ(U16(b, i + 10), 0);
  EXPECT_EQ(U32(b, i + 12), 296u);
  EXPECT_THAT(Bytes(b, i + 16, 8), ElementsAre(2, 0, 4, 0, 'a', 'r', 'g', 'o'));
  EXPECT_THAT(Bytes(b, i + 24, 8), ElementsAre(9, 0, 1, 0, 9, 0, 0, 0));
  EXPECT_THAT(Bytes(b, i + 32, 4), ElementsAre(0, 0, 0, 0));
  EXPECT_EQ(U32(b, i + 36), kIdbLen);
}

TEST(PcapngWriterTest, SecondHeaderIsRefused) {
  std::ostringstream out;
  PcapngWriter w(&out);
  ASSERT_TRUE(w.WriteHeader(64).ok());
  EXPECT_EQ(w.WriteHeader(64).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(out.str().size(), kShbLen + kIdbLen);
}

TEST(PcapngWriterTest, RecordBeforeHeaderIsRefused) {
  std::ostringstream out;
  PcapngWriter w(&out);
  EXPECT_EQ(w.WriteRecord(Sample(), kThirteen).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(out.str().empty());
}

TEST(PcapngWriterTest, PayloadLongerThanPayloadLenIsInvalid) {
  std::ostringstream out;
  PcapngWriter w(&out);
  ASSERT_TRUE(w.WriteHeader(64).ok());
  CaptureRecordFields r = Sample();
  r.payload_len = 12;
  EXPECT_EQ(w.WriteRecord(r, kThirteen).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.str().size(), kShbLen + kIdbLen);
}

TEST(PcapngWriterTest, EpbSplitsTimestampPadsDataAndRepeatsLength) {
  std::ostringstream out;
  PcapngWriter w(&out);
  ASSERT_TRUE(w.WriteHeader(256).ok());
  ASSERT_TRUE(w.WriteRecord(Sample(), kThirteen).ok());
  const std::string b = out.str();
  const size_t e = kShbLen + kIdbLen;
  // 40 + 13 = 53 data bytes, padded to 56.
  const uint32_t total = kEpbFixedLen + 56;
  ASSERT_EQ(b.size(), e + total);
  EXPECT_EQ(U32(b, e), 6u);
  EXPECT_EQ(U32(b, e + 4), total);
  EXPECT_EQ(U32(b, e + 8), 0u);  // interface 0
  EXPECT_EQ(U32(b, e + 12), 0x01234567u);
  EXPECT_EQ(U32(b, e + 16), 0x89ABCDEFu);
  EXPECT_EQ(U32(b, e + 20), 53u);  // captured
  EXPECT_EQ(U32(b, e + 24), 53u);  // original
  EXPECT_THAT(Bytes(b, e + 28 + 40, 13), ElementsAreArray(kThirteen));
  EXPECT_THAT(Bytes(b, e + 28 + 53, 3), ElementsAre(0, 0, 0));
  EXPECT_EQ(U32(b, e + total - 4), total);
}

TEST(PcapngWriterTest, RecordHeaderBytesFollowTheDocumentedLayout) {
  std::ostringstream out;
  PcapngWriter w(&out);
  ASSERT_TRUE(w.WriteHeader(256).ok());
  CaptureRecordFields r = Sample();
  r.flags = kCaptureFlagRefused;
  r.xen_errno = 13;
  ASSERT_TRUE(w.WriteRecord(r, kThirteen).ok());
  const std::string b = out.str();
  const size_t h = kShbLen + kIdbLen + 28;
  EXPECT_THAT(Bytes(b, h, 40),
              ElementsAre(1, 0x02, 40, 0,            // version, flags, len
                          0xD4, 0xC3, 0xB2, 0xA1,    // message_type
                          7, 0, 0, 0,                // src_port
                          2, 0, 1, 0,                // src, dst domid
                          80, 0, 0, 0,               // dst_port
                          0xF4, 0x7F, 13, 0,         // partner, errno
                          13, 0, 0, 0, 13, 0, 0, 0,  // payload, captured
                          0, 0, 0, 0, 0, 0, 0, 0));  // path_len, reserved
}

TEST(PcapngWriterTest, SnapLenBoundsCapturedButNotOriginalLength) {
  std::ostringstream out;
  PcapngWriter w(&out);
  ASSERT_TRUE(w.WriteHeader(8).ok());
  ASSERT_TRUE(w.WriteRecord(Sample(), kThirteen).ok());
  const std::string b = out.str();
  const size_t e = kShbLen + kIdbLen;
  EXPECT_EQ(U32(b, kShbLen + 12), 48u);         // IDB snaplen 8 + 40
  EXPECT_EQ(U32(b, e + 4), kEpbFixedLen + 48);  // 48: already aligned
  EXPECT_EQ(U32(b, e + 20), 48u);
  EXPECT_EQ(U32(b, e + 24), 53u);
  auto d = DecodeRecordHeader(absl::MakeConstSpan(
      reinterpret_cast<const uint8_t*>(b.data()) + e + 28, 48));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->captured_len, 8u);
  EXPECT_EQ(d->fields.payload_len, 13u);
  EXPECT_THAT(Bytes(b, e + 28 + 40, 8),
              ElementsAreArray(kThirteen.begin(), kThirteen.begin() + 8));
}

TEST(PcapngWriterTest, EmptyPayloadIsHeaderOnly) {
  std::ostringstream out;
  PcapngWriter w(&out);
  ASSERT_TRUE(w.WriteHeader(256).ok());
  CaptureRecordFields r = Sample();
  r.payload_len = 0;
  ASSERT_TRUE(w.WriteRecord(r, {}).ok());
  const std::string b = out.str();
  const size_t e = kShbLen + kIdbLen;
  ASSERT_EQ(b.size(), e + kEpbFixedLen + 40);
  EXPECT_EQ(U32(b, e + 20), 40u);
  EXPECT_EQ(U32(b, e + 24), 40u);
  EXPECT_EQ(U32(b, b.size() - 4), kEpbFixedLen + 40);
}

TEST(PcapngWriterTest, SeveralRecordsChainByTheirLengths) {
  std::ostringstream out;
  PcapngWriter w(&out);
  ASSERT_TRUE(w.WriteHeader(256).ok());
  std::vector<CaptureRecordFields> written;
  for (uint32_t n = 0; n < 6; ++n) {  // payloads of 0..5 bytes: every pad
    CaptureRecordFields r = Sample();
    r.unix_nanos = 1'700'000'000'000'000'000ull + n;
    r.src_port = 100 + n;
    r.payload_len = n;
    std::vector<uint8_t> payload(n, static_cast<uint8_t>(0xA0 + n));
    ASSERT_TRUE(w.WriteRecord(r, payload).ok());
    written.push_back(r);
  }
  const std::string b = out.str();
  size_t at = kShbLen + kIdbLen;
  for (uint32_t n = 0; n < 6; ++n) {
    SCOPED_TRACE(n);
    ASSERT_LE(at + kEpbFixedLen, b.size());
    const uint32_t total = U32(b, at + 4);
    EXPECT_EQ(total, kEpbFixedLen + (40 + n + 3) / 4 * 4);
    EXPECT_EQ(U32(b, at + total - 4), total);
    const uint64_t ts = uint64_t{U32(b, at + 12)} << 32 | U32(b, at + 16);
    auto d = DecodeRecordHeader(absl::MakeConstSpan(
        reinterpret_cast<const uint8_t*>(b.data()) + at + 28, 40 + n));
    ASSERT_TRUE(d.ok()) << d.status();
    CaptureRecordFields got = d->fields;
    got.unix_nanos = ts;
    EXPECT_EQ(got, written[n]);
    EXPECT_EQ(d->captured_len, n);
    EXPECT_THAT(Bytes(b, at + 28 + 40, n),
                ElementsAreArray(std::vector<uint8_t>(n, 0xA0 + n)));
    at += total;
  }
  EXPECT_EQ(at, b.size());
}

// A live reader on a pipe must see each record without the writer closing
// its FILE*: read the file through a second handle while the first is open.
TEST(PcapngWriterTest, FileOutputIsFlushedAfterEachRecord) {
  const std::string path =
      std::string(std::getenv("TEST_TMPDIR")) + "/flush.pcapng";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  PcapngWriter w(f);
  ASSERT_TRUE(w.WriteHeader(256).ok());
  ASSERT_TRUE(w.WriteRecord(Sample(), kThirteen).ok());
  std::ifstream in(path, std::ios::binary);
  const std::string b((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
  EXPECT_EQ(b.size(), kShbLen + kIdbLen + kEpbFixedLen + 56);
  std::fclose(f);
}

TEST(CaptureRecordTest, EveryFieldRoundTrips) {
  CaptureRecordFields r;
  r.flags = 0x0F;
  r.message_type = 0xFFFFFFFF;
  r.src_port = 0x80000001;
  r.src_domid = 0x7FF5;
  r.dst_domid = 0x7FF8;
  r.dst_port = 0xFEDCBA98;
  r.ring_partner = 0x7FF4;
  r.xen_errno = 111;
  r.payload_len = 70000;
  const auto h = EncodeRecordHeader(r, 1234);
  auto d = DecodeRecordHeader(h);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->fields, r);
  EXPECT_EQ(d->version, 1);
  EXPECT_EQ(d->header_len, 40);
  EXPECT_EQ(d->captured_len, 1234u);
  EXPECT_EQ(d->path_len, 0u);
}

TEST(CaptureRecordTest, DecodeRejectsShortVersionZeroAndBadLengths) {
  CaptureRecordFields r = Sample();
  std::array<uint8_t, 40> h = EncodeRecordHeader(r, 13);
  EXPECT_EQ(
      DecodeRecordHeader(absl::MakeConstSpan(h.data(), 39)).status().code(),
      absl::StatusCode::kInvalidArgument);

  auto v0 = h;
  v0[0] = 0;
  EXPECT_EQ(DecodeRecordHeader(v0).status().code(),
            absl::StatusCode::kInvalidArgument);

  auto short_len = h;
  short_len[2] = 39;
  EXPECT_EQ(DecodeRecordHeader(short_len).status().code(),
            absl::StatusCode::kInvalidArgument);

  auto past_end = h;  // header_len 44 but only 40 bytes given
  past_end[2] = 44;
  EXPECT_EQ(DecodeRecordHeader(past_end).status().code(),
            absl::StatusCode::kInvalidArgument);

  auto over = h;  // captured_len 14 > payload_len 13
  over[28] = 14;
  EXPECT_EQ(DecodeRecordHeader(over).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CaptureRecordTest, LaterVersionWithLongerHeaderKeepsKnownFields) {
  CaptureRecordFields r = Sample();
  std::array<uint8_t, 40> h = EncodeRecordHeader(r, 13);
  std::vector<uint8_t> longer(h.begin(), h.end());
  longer[0] = 2;
  longer[2] = 48;
  longer.resize(48, 0xEE);
  auto d = DecodeRecordHeader(longer);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->version, 2);
  EXPECT_EQ(d->header_len, 48);
  r.unix_nanos = 0;
  EXPECT_EQ(d->fields, r);
}

}  // namespace
}  // namespace argo::toolstack::capture
