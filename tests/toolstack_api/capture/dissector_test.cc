// Wireshark's view of the writer's files: writes a capture with
// PcapngWriter, runs tshark with tools/wireshark/argo.lua, and checks every
// field of every record and the Info column. tshark comes from
// tools/setup.sh; without it this test fails rather than skips.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "argo_core/name_path.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "toolstack_api/capture/capture_record.h"
#include "toolstack_api/capture/pcapng_writer.h"

namespace argo::toolstack::capture {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTshark[] = "/usr/bin/tshark";
constexpr uint32_t kSnapLen = 16;
constexpr uint64_t kBaseNanos = 1'700'000'000'123'456'789ull;

struct Case {
  CaptureRecordFields fields;
  std::vector<uint8_t> payload;
};

std::vector<uint8_t> Text(const char* s) {
  return std::vector<uint8_t>(s, s + std::string(s).size());
}

// One record per situation docs/capture.md names; record i is stamped
// kBaseNanos + i.
std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto add = [&](uint8_t flags, uint16_t src_domid, uint32_t src_port,
                 uint16_t dst_domid, uint32_t dst_port, uint32_t type,
                 uint16_t partner, uint16_t xen_errno,
                 std::vector<uint8_t> payload) {
    Case c;
    c.fields.unix_nanos = kBaseNanos + cases.size();
    c.fields.flags = flags;
    c.fields.src_domid = src_domid;
    c.fields.src_port = src_port;
    c.fields.dst_domid = dst_domid;
    c.fields.dst_port = dst_port;
    c.fields.message_type = type;
    c.fields.ring_partner = partner;
    c.fields.xen_errno = xen_errno;
    c.fields.payload_len = static_cast<uint32_t>(payload.size());
    c.payload = std::move(payload);
    cases.push_back(std::move(c));
  };
  // 0: unicast, delivered.
  add(0, 2, 7, 1, 80, 3, 2, 0, Text("hello, world!"));
  // 1: to a wildcard ring.
  add(kCaptureFlagWildcard, 3, 9, 1, 443, 1, 0x7FF4, 0, Text("ping"));
  // 2: implicit destination, resolved to 4:5000.
  add(kCaptureFlagImplicit, 2, 7, 4, 5000, 2, 2, 0, Text("x"));
  // 3: refused by policy.
  add(kCaptureFlagRefused, 5, 11, 1, 80, 3, 0x7FF4, 13, Text("denied"));
  // 4: implicit, refused before resolution.
  add(kCaptureFlagImplicit | kCaptureFlagRefused, 5, 12, 0x7FF8, 9, 4, 0x7FF4,
      111, Text("nowhere"));
  // 5: forwarded from a host buffer.
  add(kCaptureFlagFromHost, 0, 1, 6, 22, 7, 0, 0, Text("fwd"));
  // 6: binary payload (NUL, tab, newline, high bytes).
  add(0, 2, 0x80000000u, 1, 0xFFFFFFFFu, 0xFFFFFFFFu, 2, 0,
      {0x00, 0x01, 0xFF, 0xFE, 0x80, 0x7F, 0x09, 0x0A, 0x0D});
  // 7: empty payload.
  add(0, 2, 7, 1, 80, 0, 2, 0, {});
  // 8: longer than the snap length: 20 bytes, 16 captured.
  add(0, 2, 7, 1, 80, 3, 2, 0, Text("0123456789abcdefWXYZ"));
  return cases;
}

class DissectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kTshark, X_OK), 0)
        << kTshark << " is missing: tools/setup.sh installs tshark";
    const std::string tmp = std::getenv("TEST_TMPDIR");
    // A private home: no user profile or installed copy of argo.lua (which
    // would register the protocol twice) takes part.
    setenv("HOME", tmp.c_str(), 1);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("WIRESHARK_CONFIG_DIR");
    path_ = tmp + "/argo.pcapng";
    lua_ = testing::RunfilePath("tools/wireshark/argo.lua");
    ASSERT_EQ(access(lua_.c_str(), R_OK), 0) << lua_;

    std::FILE* f = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    PcapngWriter w(f);
    ASSERT_TRUE(w.WriteHeader(kSnapLen).ok());
    for (const Case& c : Cases()) {
      ASSERT_TRUE(w.WriteRecord(c.fields, c.payload).ok());
    }
    ASSERT_EQ(std::fclose(f), 0);
  }

  // One row per packet, one column per field of `fields`.
  std::vector<std::vector<std::string>> Tshark(
      const std::vector<std::string>& fields) {
    std::vector<std::string> argv = {
        kTshark, "-r", path_, "-X", "lua_script:" + lua_, "-T", "fields"};
    for (const std::string& field : fields) {
      argv.push_back("-e");
      argv.push_back(field);
    }
    testing::RunResult r = testing::RunProcess(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, Not(HasSubstr("Lua"))) << r.err;
    std::vector<std::vector<std::string>> rows;
    for (absl::string_view line :
         absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
      rows.push_back(absl::StrSplit(line, '\t'));
    }
    return rows;
  }

  std::string path_;
  std::string lua_;
};

std::string Hex(const std::vector<uint8_t>& b, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && i < b.size(); ++i) {
    absl::StrAppend(&s, absl::Hex(b[i], absl::kZeroPad2));
  }
  return s;
}

TEST_F(DissectorTest, EveryFieldOfEveryRecord) {
  const std::vector<Case> cases = Cases();
  const auto rows = Tshark({
      "frame.time_epoch",
      "argo.version",
      "argo.flags",
      "argo.flags.implicit",
      "argo.flags.refused",
      "argo.flags.wildcard",
      "argo.flags.from_host",
      "argo.header_len",
      "argo.msg_type",
      "argo.src_domid",
      "argo.src_port",
      "argo.dst_domid",
      "argo.dst_port",
      "argo.ring_partner",
      "argo.errno",
      "argo.payload_len",
      "argo.captured_len",
      "argo.path_len",
      "data.data",
  });
  ASSERT_EQ(rows.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("record ", i));
    const CaptureRecordFields& r = cases[i].fields;
    const uint32_t captured = std::min<uint32_t>(r.payload_len, kSnapLen);
    auto bit = [&](uint8_t flag) { return (r.flags & flag) ? "1" : "0"; };
    EXPECT_THAT(
        rows[i],
        ElementsAre(absl::StrCat("1700000000.", 123456789 + i), "1",
                    absl::StrCat("0x", absl::Hex(r.flags, absl::kZeroPad2)),
                    bit(kCaptureFlagImplicit), bit(kCaptureFlagRefused),
                    bit(kCaptureFlagWildcard), bit(kCaptureFlagFromHost), "40",
                    absl::StrCat(r.message_type), absl::StrCat(r.src_domid),
                    absl::StrCat(r.src_port), absl::StrCat(r.dst_domid),
                    absl::StrCat(r.dst_port), absl::StrCat(r.ring_partner),
                    absl::StrCat(r.xen_errno), absl::StrCat(r.payload_len),
                    absl::StrCat(captured), "0",
                    Hex(cases[i].payload, captured)));
  }
}

TEST_F(DissectorTest, InfoAndProtocolColumns) {
  const auto rows = Tshark({"_ws.col.Protocol", "_ws.col.Info"});
  std::vector<std::string> info;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    EXPECT_EQ(row[0], "Argo");
    info.push_back(row[1]);
  }
  EXPECT_THAT(
      info, ElementsAre("2:7 → 1:80 type 3 len 13",
                        "3:9 → 1:443 type 1 len 4 (wildcard)",
                        "2:7 → 4:5000 type 2 len 1 (implicit)",
                        "5:11 → 1:80 type 3 len 6 [EACCES]",
                        "5:12 → 32760:9 type 4 len 7 (implicit) [ECONNREFUSED]",
                        "0:1 → 6:22 type 7 len 3 (from host)",
                        "2:2147483648 → 1:4294967295 type 4294967295 len 9",
                        "2:7 → 1:80 type 0 len 0", "2:7 → 1:80 type 3 len 20"));
}

// The errno value_string names the refusal in the packet details.
TEST_F(DissectorTest, DetailsNameTheErrnoAndTheReservedDomids) {
  testing::RunResult r =
      testing::RunProcess({kTshark, "-r", path_, "-X", "lua_script:" + lua_,
                           "-V", "-Y", "argo.flags.refused == 1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Xen errno: EACCES (13)"));
  EXPECT_THAT(r.out, HasSubstr("Xen errno: ECONNREFUSED (111)"));
  EXPECT_THAT(r.out,
              HasSubstr("Destination domid: ARGO_DOMID_IMPLICIT (32760)"));
  EXPECT_THAT(r.out, HasSubstr("Ring partner: XEN_ARGO_DOMID_ANY (32756)"));
  EXPECT_THAT(r.out, Not(HasSubstr("Xen errno: delivered")));
}

// A message that crossed levels (docs/nesting.md): the name path block is
// decoded as a subtree and the data dissector gets the payload after it.
TEST_F(DissectorTest, DecodesTheNamePathOfANestedMessage) {
  NamePath path;
  path.message_type = 9;
  path.dst_port = 0;
  ASSERT_TRUE(path.Push({100, 1, 0}));
  ASSERT_TRUE(path.Push({7, ARGO_DOMID_PARENT, 0}));
  uint8_t block[ARGO_PATH_MAX_BYTES];
  const uint32_t n = WriteNamePath(path, block);
  std::vector<uint8_t> payload(block, block + n);
  for (char c : std::string("hello")) payload.push_back(c);
  CaptureRecordFields fields;
  fields.unix_nanos = kBaseNanos;
  fields.src_domid = 10;
  fields.src_port = 8;
  fields.dst_domid = 1;
  fields.dst_port = 50;
  fields.message_type = ARGO_MSG_TYPE_PATH;
  fields.payload_len = static_cast<uint32_t>(payload.size());
  std::FILE* f = std::fopen(path_.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  PcapngWriter w(f);
  ASSERT_TRUE(w.WriteHeader(256).ok());
  ASSERT_TRUE(w.WriteRecord(fields, payload).ok());
  ASSERT_EQ(std::fclose(f), 0);

  testing::RunResult r = testing::RunProcess(
      {kTshark, "-r", path_, "-X", "lua_script:" + lua_, "-V"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Name path block: parent:7/dom1:100"));
  EXPECT_THAT(r.out, HasSubstr("Original message type: 9"));
  EXPECT_THAT(r.out, HasSubstr("Depth: 2"));
  EXPECT_THAT(r.out, HasSubstr("Hop: parent:7"));
  EXPECT_THAT(r.out, HasSubstr("Data (5 bytes)"));
  EXPECT_THAT(r.out, HasSubstr("68656c6c6f"));  // "hello", after the block
}

}  // namespace
}  // namespace argo::toolstack::capture
