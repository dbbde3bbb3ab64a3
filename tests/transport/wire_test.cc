// The transport's decoders (transport/wire.h): every rejection of
// DecodeHello and DecodeFrame, each with its message, and what a valid
// hello or frame decodes to.
#include "transport/wire.h"

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "absl/types/variant.h"
#include "gtest/gtest.h"

namespace argo::transport {
namespace {

template <typename T>
absl::Span<const uint8_t> Bytes(const T& value) {
  return {reinterpret_cast<const uint8_t*>(&value), sizeof(value)};
}

Hello ValidHello() {
  Hello hello{};
  hello.magic = kHelloMagic;
  hello.version = kProtocolVersion;
  hello.mode = static_cast<uint8_t>(Mode::kBlocking);
  hello.vcpus = 1;
  hello.domid = 5;
  std::memcpy(hello.token, "ab5cd", 5);
  return hello;
}

// The message DecodeHello gives for `hello`, or "" if it decodes.
std::string HelloError(const Hello& hello) {
  absl::StatusOr<AttachRequest> request = DecodeHello(Bytes(hello));
  if (request.ok()) return "";
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(request.status().message());
}

std::string FrameError(const HypercallFrame& frame, uint32_t max_vcpu) {
  absl::StatusOr<HypercallRequest> request = DecodeFrame(Bytes(frame), max_vcpu);
  if (request.ok()) return "";
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(request.status().message());
}

TEST(DecodeHelloTest, ValidHelloByIdDecodes) {
  absl::StatusOr<AttachRequest> request = DecodeHello(Bytes(ValidHello()));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->mode, Mode::kBlocking);
  EXPECT_EQ(request->vcpus, 1u);
  ASSERT_TRUE(absl::holds_alternative<domid_t>(request->domain));
  EXPECT_EQ(absl::get<domid_t>(request->domain), 5);
  EXPECT_EQ(request->token, "ab5cd");
  EXPECT_EQ(request->level_cpus, 0u) << "a plain guest";
}

TEST(DecodeHelloTest, ValidLowLatencyHelloByNameDecodes) {
  Hello hello = ValidHello();
  hello.domid = 0;
  hello.mode = static_cast<uint8_t>(Mode::kLowLatency);
  hello.vcpus = kMaxVcpus;
  std::memcpy(hello.name, "web-01_x", 8);
  absl::StatusOr<AttachRequest> request = DecodeHello(Bytes(hello));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->mode, Mode::kLowLatency);
  EXPECT_EQ(request->vcpus, kMaxVcpus);
  ASSERT_TRUE(absl::holds_alternative<std::string>(request->domain));
  EXPECT_EQ(absl::get<std::string>(request->domain), "web-01_x");
}

TEST(DecodeHelloTest, WrongSizeIsRejected) {
  const Hello hello = ValidHello();
  absl::StatusOr<AttachRequest> request =
      DecodeHello(Bytes(hello).first(sizeof(Hello) - 1));
  EXPECT_EQ(request.status().message(), "hello: 159 bytes, expected 160");
  uint8_t longer[sizeof(Hello) + 1] = {};
  std::memcpy(longer, &hello, sizeof(hello));
  EXPECT_EQ(DecodeHello(longer).status().message(),
            "hello: 161 bytes, expected 160");
}

TEST(DecodeHelloTest, WrongMagicIsRejected) {
  Hello hello = ValidHello();
  hello.magic = kFrameMagic;
  EXPECT_EQ(HelloError(hello), "hello: not an Argo attach request");
}

TEST(DecodeHelloTest, OtherVersionIsRejected) {
  Hello hello = ValidHello();
  hello.version = 2;
  EXPECT_EQ(HelloError(hello),
            "hello: protocol version 2, this daemon speaks 1");
}

TEST(DecodeHelloTest, UnknownModeIsRejected) {
  Hello hello = ValidHello();
  hello.mode = 3;
  EXPECT_EQ(HelloError(hello), "hello: unknown mode 3");
  hello.mode = 0;
  EXPECT_EQ(HelloError(hello), "hello: unknown mode 0");
}

TEST(DecodeHelloTest, BlockingModeHasOneVcpu) {
  Hello hello = ValidHello();
  hello.vcpus = 2;
  EXPECT_EQ(HelloError(hello), "hello: blocking mode has 1 vcpu");
  hello.vcpus = 0;
  EXPECT_EQ(HelloError(hello), "hello: blocking mode has 1 vcpu");
}

TEST(DecodeHelloTest, LowLatencyVcpusOutsideOneToEightAreRejected) {
  Hello hello = ValidHello();
  hello.mode = static_cast<uint8_t>(Mode::kLowLatency);
  hello.vcpus = 0;
  EXPECT_EQ(HelloError(hello), "hello: 0 vcpus, expected 1..8");
  hello.vcpus = kMaxVcpus + 1;
  EXPECT_EQ(HelloError(hello), "hello: 9 vcpus, expected 1..8");
}

TEST(DecodeHelloTest, UnterminatedNameOrTokenIsRejected) {
  Hello hello = ValidHello();
  std::memset(hello.name, 'a', sizeof(hello.name));
  EXPECT_EQ(HelloError(hello), "hello: the domain name is not NUL-terminated");
  hello = ValidHello();
  std::memset(hello.token, 'a', sizeof(hello.token));
  EXPECT_EQ(HelloError(hello), "hello: the token is not NUL-terminated");
}

TEST(DecodeHelloTest, BytesAfterTheTerminatorAreRejected) {
  Hello hello = ValidHello();
  hello.domid = 0;
  std::memcpy(hello.name, "web\0x", 5);
  EXPECT_EQ(HelloError(hello),
            "hello: bytes after the end of the domain name");
  hello = ValidHello();
  hello.token[sizeof(hello.token) - 1] = 'a';
  EXPECT_EQ(HelloError(hello), "hello: bytes after the end of the token");
  // A hidden second string after an empty name is still a second string.
  hello = ValidHello();
  hello.name[10] = 'x';
  EXPECT_EQ(HelloError(hello),
            "hello: bytes after the end of the domain name");
}

TEST(DecodeHelloTest, NameAndIdTogetherAreRejected) {
  Hello hello = ValidHello();
  std::memcpy(hello.name, "web", 3);
  EXPECT_EQ(HelloError(hello), "hello: both a domain name and an id");
}

TEST(DecodeHelloTest, NameOutsideTheAlphabetIsRejected) {
  for (const char* name : {"Web", "a.b", "a b", "\x7f", "caf\xc3\xa9"}) {
    Hello hello = ValidHello();
    hello.domid = 0;
    std::memcpy(hello.name, name, std::strlen(name));
    EXPECT_EQ(HelloError(hello),
              "hello: the domain name has characters no domain name has")
        << name;
  }
}

TEST(DecodeHelloTest, ReservedDomidIsRejected) {
  Hello hello = ValidHello();
  hello.domid = DOMID_FIRST_RESERVED;
  EXPECT_EQ(HelloError(hello), "hello: domain id 32752 is reserved");
  hello.domid = 0xFFFFFFFF;
  EXPECT_EQ(HelloError(hello), "hello: domain id 4294967295 is reserved");
  hello.domid = DOMID_FIRST_RESERVED - 1;
  EXPECT_EQ(HelloError(hello), "");
}

TEST(DecodeHelloTest, TokenMustBeNonEmptyLowerCaseHex) {
  for (const char* token : {"", "AB5CD", "ab5cg", "ab 5"}) {
    Hello hello = ValidHello();
    std::memset(hello.token, 0, sizeof(hello.token));
    std::memcpy(hello.token, token, std::strlen(token));
    EXPECT_EQ(HelloError(hello), "hello: the token must be lower-case hex")
        << token;
  }
}

TEST(DecodeHelloTest, NonZeroReservedBytesAreRejected) {
  for (size_t i = 0; i < sizeof(Hello::reserved); ++i) {
    Hello hello = ValidHello();
    hello.reserved[i] = 1;
    EXPECT_EQ(HelloError(hello), "hello: reserved bytes are not zero") << i;
  }
}

TEST(DecodeHelloTest, LevelCpusOneToMaxDeclareAChildLevel) {
  for (uint8_t cpus : {1, 2, ARGO_LEVEL_MAX_CPUS}) {
    Hello hello = ValidHello();
    hello.level_cpus = cpus;
    absl::StatusOr<AttachRequest> request = DecodeHello(Bytes(hello));
    ASSERT_TRUE(request.ok()) << request.status();
    EXPECT_EQ(request->level_cpus, cpus);
  }
}

TEST(DecodeHelloTest, LevelCpusOverTheMaximumAreRejected) {
  Hello hello = ValidHello();
  hello.level_cpus = ARGO_LEVEL_MAX_CPUS + 1;
  EXPECT_EQ(HelloError(hello),
            "hello: a level of 65 CPUs, expected 0 (a guest) or 1..64");
  hello.level_cpus = 255;
  EXPECT_EQ(HelloError(hello),
            "hello: a level of 255 CPUs, expected 0 (a guest) or 1..64");
}

// ---- Frames ----------------------------------------------------------------

TEST(DecodeFrameTest, RequestFrameDecodesAndAnswers) {
  const HypercallFrame frame =
      RequestFrame(77, 3, XEN_ARGO_OP_sendv, 0x1000, 0x1100, 2, 0xABCD);
  absl::StatusOr<HypercallRequest> request = DecodeFrame(Bytes(frame), 7);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->seq, 77u);
  EXPECT_EQ(request->vcpu, 3u);
  EXPECT_EQ(request->cmd, unsigned{XEN_ARGO_OP_sendv});
  EXPECT_EQ(request->arg[0], 0x1000u);
  EXPECT_EQ(request->arg[3], 0xABCDu);
  const HypercallFrame answer = AnswerFrame(*request, -22);
  EXPECT_EQ(answer.magic, kFrameMagic);
  EXPECT_EQ(answer.seq, 77u);
  EXPECT_EQ(answer.result, -22);
  EXPECT_EQ(answer.reserved, 0u);
  EXPECT_EQ(std::memcmp(answer.arg, frame.arg, sizeof(frame.arg)), 0);
}

TEST(DecodeFrameTest, ResultFieldOfARequestIsIgnored) {
  HypercallFrame frame = RequestFrame(1, 0, XEN_ARGO_OP_notify, 0, 0, 0, 0);
  frame.result = -1;
  EXPECT_EQ(FrameError(frame, 0), "");
}

TEST(DecodeFrameTest, UnknownCmdIsLeftToTheHypervisor) {
  EXPECT_EQ(FrameError(RequestFrame(1, 0, 0xFFFFFFFFu, 0, 0, 0, 0), 0), "");
}

TEST(DecodeFrameTest, WrongSizeIsRejected) {
  const HypercallFrame frame = RequestFrame(1, 0, 4, 0, 0, 0, 0);
  EXPECT_EQ(DecodeFrame(Bytes(frame).first(63), 0).status().message(),
            "frame: 63 bytes, expected 64");
  EXPECT_EQ(DecodeFrame({}, 0).status().message(),
            "frame: 0 bytes, expected 64");
  uint8_t longer[sizeof(HypercallFrame) + 96] = {};
  std::memcpy(longer, &frame, sizeof(frame));
  EXPECT_EQ(DecodeFrame(longer, 0).status().message(),
            "frame: 160 bytes, expected 64");
}

TEST(DecodeFrameTest, WrongMagicIsRejected) {
  HypercallFrame frame = RequestFrame(1, 0, 4, 0, 0, 0, 0);
  frame.magic = kHelloMagic;
  EXPECT_EQ(FrameError(frame, 0), "frame: bad magic");
}

TEST(DecodeFrameTest, VcpuBeyondTheBoundIsRejected) {
  EXPECT_EQ(FrameError(RequestFrame(1, 1, 4, 0, 0, 0, 0), 0),
            "frame: vcpu 1 beyond 0");
  EXPECT_EQ(FrameError(RequestFrame(1, 8, 4, 0, 0, 0, 0), 7),
            "frame: vcpu 8 beyond 7");
  EXPECT_EQ(FrameError(RequestFrame(1, 7, 4, 0, 0, 0, 0), 7), "");
}

TEST(DecodeFrameTest, NonZeroReservedIsRejected) {
  HypercallFrame frame = RequestFrame(1, 0, 4, 0, 0, 0, 0);
  frame.reserved = uint64_t{1} << 63;
  EXPECT_EQ(FrameError(frame, 0), "frame: reserved field is not zero");
}

}  // namespace
}  // namespace argo::transport
