// A guest written in C (c_guest_example.c, compiled as C) against a real
// level: it runs as its own process, attached as domain kB; this test is
// domain kA, attached through the C++ Guest, and checks every message it
// exchanges with it.
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "argo_core/public/xen_errno.h"
#include "gtest/gtest.h"
#include "guest/guest.h"
#include "tests/guest/guest_world.h"
#include "tests/testing/subprocess.h"

namespace argo::guest {
namespace {

using ::argo::testing::GuestWorld;
using ::argo::testing::NextMessage;
using ::argo::testing::RunResult;

constexpr domid_t kA = GuestWorld::kA;
constexpr domid_t kB = GuestWorld::kB;

std::string Text(const ReceivedMessage& m) {
  return std::string(m.payload.begin(), m.payload.end());
}

TEST(CApiTest, CGuestExchangesMessagesWithACxxGuest) {
  GuestWorld world;
  ASSERT_TRUE(world.Start().ok());
  auto a =
      Guest::Attach(world.harness().OptionsFor(kA, transport::Mode::kBlocking));
  ASSERT_TRUE(a.ok()) << a.status();
  auto peer_ring = (*a)->RegisterRing(30, kB, 4096);
  auto cable_ring = (*a)->RegisterRing(GuestWorld::kCableA, kB, 4096);
  ASSERT_TRUE(peer_ring.ok() && cable_ring.ok());

  RunResult c;
  std::thread child([&] {
    c = ::argo::testing::RunProcess(
        {::argo::testing::RunfilePath("tests/guest/c_guest_example"),
         world.socket_path(), absl::StrCat(kB), GuestWorld::TokenFor(kB),
         absl::StrCat(kA)});
  });

  auto hello = NextMessage(**a, *peer_ring);
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(Text(*hello), "hello from C");
  EXPECT_EQ(hello->source.domain_id, kB);
  EXPECT_EQ(hello->source.aport, 20u);
  EXPECT_EQ(hello->message_type, 1u);

  const std::string ping = "ping";
  ASSERT_TRUE((*a)->Send(30, hello->source,
                         absl::Span<const uint8_t>(
                             reinterpret_cast<const uint8_t*>(ping.data()),
                             ping.size()),
                         5)
                  .ok());
  auto echo = NextMessage(**a, *peer_ring);
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(Text(*echo), "echo: ping");
  EXPECT_EQ(echo->message_type, 5u);

  auto implicit = NextMessage(**a, *cable_ring);
  ASSERT_TRUE(implicit.has_value());
  EXPECT_EQ(Text(*implicit), "implicit from C");
  EXPECT_EQ(implicit->source.domain_id, kB);
  EXPECT_EQ(implicit->source.aport, GuestWorld::kCableB);
  EXPECT_EQ(implicit->message_type, 2u);

  child.join();
  EXPECT_EQ(c.exit_code, 0) << c.err;
  const std::string expected = absl::StrCat(
      "attached as 2\n", "sent 12 bytes\n",
      "missing ring: ECONNREFUSED: no ring accepts the message (or the port "
      "is not cabled)\n",
      "short buffer: needs 4\n", "got \"ping\" from 1:30 type 5\n", "echoed\n",
      "cabled ring: flags ",
      XEN_ARGO_RING_EXISTS | XEN_ARGO_RING_SUFFICIENT | XEN_ARGO_RING_EMPTY,
      " max 4064\n",
      "uncabled: ECONNREFUSED: no ring accepts the message (or the port is "
      "not cabled)\n",
      "raw op 99: ", -XEN_EOPNOTSUPP, "\n", "done\n");
  EXPECT_EQ(c.out, expected);
}

TEST(CApiTest, CGuestWithBadTokenReportsWhy) {
  GuestWorld world;
  ASSERT_TRUE(world.Start().ok());
  RunResult c = ::argo::testing::RunProcess(
      {::argo::testing::RunfilePath("tests/guest/c_guest_example"),
       world.socket_path(), absl::StrCat(kB), "abcdef", absl::StrCat(kA)});
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.err, "c_guest_example: attach: wrong attach token\n");
}

}  // namespace
}  // namespace argo::guest
