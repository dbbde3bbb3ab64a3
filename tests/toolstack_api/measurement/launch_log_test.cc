// The measured launch log (launch_log.h): the register against an
// independent replay, the saved format byte for byte, and the offline
// verifier against every kind of tampering and malformation.
#include "toolstack_api/measurement/launch_log.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/runfiles.h"
#include "toolstack_api/measurement/sha256.h"

namespace argo::toolstack {
namespace {

// 1700000000 s, then one second later at every call.
LaunchLog::Clock FakeClock() {
  auto t = std::make_shared<int64_t>(1700000000);
  return [t] { return absl::FromUnixSeconds((*t)++); };
}

std::string Bytes(const Sha256Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// The extension written out again with the one-shot hash of the 64-byte
// concatenation (not ExtendRegister).
Sha256Digest Replay(const std::vector<std::string>& measured) {
  Sha256Digest reg{};
  for (const std::string& m : measured) {
    reg = Sha256(Bytes(reg) + Bytes(Sha256(m)));
  }
  return reg;
}

// Three measurements with the fake clock.
std::string ThreeEntryJson() {
  LaunchLog log(FakeClock());
  log.Measure(MeasurementKind::kConfig, "default.textproto", "config bytes");
  log.Measure(MeasurementKind::kPolicy, "strict.textproto", "policy bytes");
  log.Measure(MeasurementKind::kRelabel, "domain 3 -> storage_t",
              "3:storage_t");
  return log.ToJson();
}

// Verifies and returns the status, with the replayed register in `*hex`.
absl::Status Verify(const std::string& json, std::string* hex = nullptr) {
  std::string replayed;
  absl::Status s = VerifyLaunchLogJson(json, &replayed);
  if (hex != nullptr) *hex = replayed;
  return s;
}

// The JSON with its lines (entries are one a line) reordered / dropped.
std::vector<std::string> Lines(const std::string& json) {
  return absl::StrSplit(json, '\n');
}

TEST(LaunchLogTest, StartsAtZerosAndAnEmptyLogVerifies) {
  LaunchLog log(FakeClock());
  EXPECT_EQ(log.Register(), Sha256Digest{});
  EXPECT_TRUE(log.Entries().empty());
  EXPECT_EQ(log.ToJson(),
            "{\"register\":\"" + std::string(64, '0') + "\",\"entries\":[]}\n");
  std::string hex;
  EXPECT_TRUE(Verify(log.ToJson(), &hex).ok());
  EXPECT_EQ(hex, std::string(64, '0'));
}

TEST(LaunchLogTest, RegisterEqualsAnIndependentReplayAfterEachMeasurement) {
  LaunchLog log(FakeClock());
  const std::vector<std::string> measured = {"config bytes", "",
                                             std::string(1000, 'p'), "cap"};
  const MeasurementKind kinds[] = {
      MeasurementKind::kConfig, MeasurementKind::kPolicy,
      MeasurementKind::kPolicyModule, MeasurementKind::kCapability};
  for (size_t i = 0; i < measured.size(); ++i) {
    const LaunchLogEntry e =
        log.Measure(kinds[i], absl::StrCat("item ", i), measured[i]);
    EXPECT_EQ(e.sequence, i + 1);
    EXPECT_EQ(e.time_ns, (1700000000 + static_cast<int64_t>(i)) * 1000000000);
    EXPECT_EQ(e.kind, kinds[i]);
    EXPECT_EQ(e.description, absl::StrCat("item ", i));
    EXPECT_EQ(e.digest, Sha256(measured[i]));
    const std::vector<std::string> so_far(measured.begin(),
                                          measured.begin() + i + 1);
    EXPECT_EQ(log.Register(), Replay(so_far)) << "after " << i + 1;
  }
  const std::vector<LaunchLogEntry> entries = log.Entries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[2].digest, Sha256(std::string(1000, 'p')));
  // The empty message's digest, as sha256sum prints it.
  EXPECT_EQ(Sha256ToHex(entries[1].digest),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // ExtendRegister is the same rule.
  EXPECT_EQ(ExtendRegister(Sha256Digest{}, Sha256("config bytes")),
            Replay({"config bytes"}));
}

TEST(LaunchLogTest, OrderOfMeasurementsChangesTheRegister) {
  LaunchLog ab(FakeClock()), ba(FakeClock());
  ab.Measure(MeasurementKind::kPolicy, "a", "A");
  ab.Measure(MeasurementKind::kPolicy, "b", "B");
  ba.Measure(MeasurementKind::kPolicy, "b", "B");
  ba.Measure(MeasurementKind::kPolicy, "a", "A");
  EXPECT_NE(ab.Register(), ba.Register());
}

TEST(LaunchLogTest, SavedFormatIsStableByteForByte) {
  const std::string json = ThreeEntryJson();
  const std::string reg =
      Sha256ToHex(Replay({"config bytes", "policy bytes", "3:storage_t"}));
  EXPECT_EQ(
      json,
      absl::StrCat("{\"register\":\"", reg, "\",\"entries\":[\n",
                   "  {\"sequence\":1,\"time_ns\":1700000000000000000,"
                   "\"kind\":\"config\",\"description\":\"default.textproto\","
                   "\"digest\":\"",
                   Sha256ToHex(Sha256("config bytes")), "\"},\n",
                   "  {\"sequence\":2,\"time_ns\":1700000001000000000,"
                   "\"kind\":\"policy\",\"description\":\"strict.textproto\","
                   "\"digest\":\"",
                   Sha256ToHex(Sha256("policy bytes")), "\"},\n",
                   "  {\"sequence\":3,\"time_ns\":1700000002000000000,"
                   "\"kind\":\"relabel\",\"description\":\"domain 3 -> "
                   "storage_t\",\"digest\":\"",
                   Sha256ToHex(Sha256("3:storage_t")), "\"}\n", "]}\n"));
}

TEST(LaunchLogTest, JsonRoundTripsAndVerifies) {
  LaunchLog log(FakeClock());
  log.Measure(MeasurementKind::kConfig, "a \"quoted\" \\ name", "x");
  log.Measure(MeasurementKind::kPolicyModule, "", "y");
  log.Measure(MeasurementKind::kCapability, "cap", "z");
  const std::string json = log.ToJson();
  absl::StatusOr<SavedLaunchLog> parsed = ParseLaunchLogJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, log.Snapshot());
  EXPECT_EQ(parsed->entries[0].description, "a \"quoted\" \\ name");
  EXPECT_EQ(LaunchLogJson(*parsed), json);
  std::string hex;
  EXPECT_TRUE(Verify(json, &hex).ok()) << Verify(json);
  EXPECT_EQ(hex, Sha256ToHex(log.Register()));
}

// Logs written by tests/fuzz/make_launch_log_corpus.py with Python's
// hashlib: another SHA-256 and another writer agree with these.
TEST(LaunchLogTest, LogsMadeByAnotherImplementationVerify) {
  for (const char* name :
       {"escapes", "negative_time", "one_entry", "pretty", "two_entries"}) {
    const std::string json = argo::testing::ReadRunfile(
        absl::StrCat("tests/fuzz/corpus/launch_log/", name));
    ASSERT_FALSE(json.empty()) << name;
    EXPECT_TRUE(Verify(json).ok()) << name << ": " << Verify(json);
  }
  const std::string two =
      argo::testing::ReadRunfile("tests/fuzz/corpus/launch_log/two_entries");
  absl::StatusOr<SavedLaunchLog> parsed = ParseLaunchLogJson(two);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->entries.size(), 2u);
  EXPECT_EQ(parsed->entries[0].digest, Sha256("config"));
  EXPECT_EQ(parsed->entries[1].digest, Sha256("policy"));
  EXPECT_EQ(parsed->register_value, Replay({"config", "policy"}));
  EXPECT_EQ(LaunchLogJson(*parsed), two);  // the same bytes, written here
  EXPECT_EQ(Verify(argo::testing::ReadRunfile(
                       "tests/fuzz/corpus/launch_log/changed_digest"))
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST(LaunchLogTest, PrettyPrintedCopyVerifies) {
  std::string json = ThreeEntryJson();
  json = absl::StrReplaceAll(
      json, {{"{", "{\n\t"}, {",", " ,\r\n "}, {":", " : "}, {"}", "\n}"}});
  EXPECT_TRUE(Verify(json).ok()) << Verify(json);
}

TEST(LaunchLogTest, NegativeAndExtremeTimesParse) {
  LaunchLog log([] { return absl::FromUnixNanos(INT64_MIN); });
  log.Measure(MeasurementKind::kConfig, "old", "x");
  EXPECT_EQ(log.Entries()[0].time_ns, INT64_MIN);
  absl::StatusOr<SavedLaunchLog> parsed = ParseLaunchLogJson(log.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->entries[0].time_ns, INT64_MIN);
  const std::string max = absl::StrReplaceAll(
      log.ToJson(), {{"-9223372036854775808", "9223372036854775807"}});
  ASSERT_TRUE(ParseLaunchLogJson(max).ok());
  EXPECT_EQ(ParseLaunchLogJson(max)->entries[0].time_ns, INT64_MAX);
}

TEST(LaunchLogTest, ChangedDigestIsARegisterMismatchStatingBoth) {
  const std::string json = ThreeEntryJson();
  const std::string old_digest = Sha256ToHex(Sha256("policy bytes"));
  const std::string new_digest = Sha256ToHex(Sha256("policy bytez"));
  const std::string tampered =
      absl::StrReplaceAll(json, {{old_digest, new_digest}});
  ASSERT_NE(tampered, json);
  std::string hex;
  const absl::Status s = Verify(tampered, &hex);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  const std::string saved =
      Sha256ToHex(Replay({"config bytes", "policy bytes", "3:storage_t"}));
  const std::string replayed =
      Sha256ToHex(Replay({"config bytes", "policy bytez", "3:storage_t"}));
  EXPECT_EQ(hex, replayed);
  EXPECT_TRUE(absl::StrContains(s.message(), saved)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), replayed)) << s;
}

TEST(LaunchLogTest, ChangedRegisterIsARegisterMismatch) {
  const std::string json = ThreeEntryJson();
  const std::string saved =
      Sha256ToHex(Replay({"config bytes", "policy bytes", "3:storage_t"}));
  std::string edited = saved;
  edited[10] = edited[10] == '0' ? '1' : '0';
  std::string hex;
  const absl::Status s =
      Verify(absl::StrReplaceAll(json, {{saved, edited}}), &hex);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(hex, saved);
  EXPECT_TRUE(absl::StrContains(s.message(), edited)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), saved)) << s;
}

TEST(LaunchLogTest, DroppedEntryIsNamed) {
  std::vector<std::string> lines = Lines(ThreeEntryJson());
  // Lines: header, entry 1, entry 2, entry 3, "]}", "".
  ASSERT_EQ(lines.size(), 6u);
  lines.erase(lines.begin() + 2);
  const absl::Status s = Verify(absl::StrJoin(lines, "\n"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(
      s.message(),
      "entries[1].sequence: 3 where 2 was expected: the entry "
      "with sequence 2 is missing"))
      << s;
}

TEST(LaunchLogTest, DroppedLastEntryIsARegisterMismatch) {
  std::vector<std::string> lines = Lines(ThreeEntryJson());
  ASSERT_EQ(lines.size(), 6u);
  lines.erase(lines.begin() + 3);
  lines[2] = lines[2].substr(0, lines[2].size() - 1);  // its ',' went too
  std::string hex;
  const absl::Status s = Verify(absl::StrJoin(lines, "\n"), &hex);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(hex, Sha256ToHex(Replay({"config bytes", "policy bytes"})));
}

TEST(LaunchLogTest, SwappedEntriesAreNamed) {
  std::vector<std::string> lines = Lines(ThreeEntryJson());
  ASSERT_EQ(lines.size(), 6u);
  // Swap entries 1 and 2 (both end in ',').
  std::swap(lines[1], lines[2]);
  absl::Status s = Verify(absl::StrJoin(lines, "\n"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(),
                                "entries[0].sequence: 2 where 1 was expected"))
      << s;
  // Swapped and renumbered to hide it: the register still tells.
  std::swap(lines[1], lines[2]);
  const std::string a = lines[1], b = lines[2];
  lines[1] = absl::StrReplaceAll(b, {{"\"sequence\":2", "\"sequence\":1"}});
  lines[2] = absl::StrReplaceAll(a, {{"\"sequence\":1", "\"sequence\":2"}});
  s = Verify(absl::StrJoin(lines, "\n"));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
}

TEST(LaunchLogTest, RepeatedEntryIsNamed) {
  std::vector<std::string> lines = Lines(ThreeEntryJson());
  lines.insert(lines.begin() + 2, lines[1]);
  const absl::Status s = Verify(absl::StrJoin(lines, "\n"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(),
                                "entries[1].sequence: 1 where 2 was expected: "
                                "entries out of order or repeated"))
      << s;
}

TEST(LaunchLogTest, MalformedJsonIsRefusedWithWhereAndWhat) {
  const std::string good = ThreeEntryJson();
  const std::string d1 = Sha256ToHex(Sha256("config bytes"));
  struct Case {
    std::string json;
    std::string want;  // a substring of the message
  };
  std::string upper = d1;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  const std::vector<Case> cases = {
      {"",
       "the log: expected '{' opening the log, found the end of the input "
       "(at byte 0)"},
      {good.substr(0, good.find("strict.tex") + 10),
       "entries[1].description: unterminated string"},
      {good.substr(0, good.size() - 2),
       "the log: expected '}' closing the log"},
      {good + "x", "the log: bytes after its end"},
      {absl::StrReplaceAll(good, {{"\"register\"", "\"Register\""}}),
       "the log: expected the key \"register\""},
      {absl::StrReplaceAll(good, {{"{\"sequence\":2,", "{"}}),
       "entries[1]: expected the key \"sequence\""},
      {absl::StrReplaceAll(good, {{",\"kind\":\"policy\"", ""}}),
       "entries[1]: expected ',' and the key \"kind\"|entries[1]: expected "
       "the key \"kind\""},
      {absl::StrReplaceAll(good, {{"\"digest\":\"" + d1 + "\"",
                                   "\"digest\":\"" + d1 + "\",\"x\":1"}}),
       "entries[0]: expected '}' closing the entry, found ','"},
      {absl::StrReplaceAll(good, {{d1, upper}}),
       "entries[0].digest: not 64 lowercase hex digits"},
      {absl::StrReplaceAll(good, {{d1, d1.substr(2)}}),
       "entries[0].digest: not 64 lowercase hex digits"},
      {absl::StrReplaceAll(good,
                           {{"\"kind\":\"relabel\"", "\"kind\":\"boot\""}}),
       "entries[2].kind: unknown kind \"boot\""},
      {absl::StrReplaceAll(good, {{"\"sequence\":2", "\"sequence\":02"}}),
       "entries[1].sequence: leading zero"},
      {absl::StrReplaceAll(good, {{"\"sequence\":2", "\"sequence\":-2"}}),
       "entries[1].sequence: expected an integer, found '-'"},
      {absl::StrReplaceAll(
           good, {{"\"sequence\":2", "\"sequence\":18446744073709551616"}}),
       "entries[1].sequence: out of range"},
      {absl::StrReplaceAll(good, {{"1700000001000000000", "1.7e18"}}),
       "entries[1].time_ns: not an integer"},
      {absl::StrReplaceAll(good,
                           {{"1700000001000000000", "9223372036854775808"}}),
       "entries[1].time_ns: out of range"},
      {absl::StrReplaceAll(good, {{"1700000001000000000", "-0"}}),
       "entries[1].time_ns: negative zero"},
      {absl::StrReplaceAll(good,
                           {{"\"strict.textproto\"", "\"strict\ntextproto\""}}),
       "entries[1].description: byte 0x0a in a string"},
      {absl::StrReplaceAll(
           good, {{"\"strict.textproto\"", "\"strict\\u0041textproto\""}}),
       "entries[1].description: only the escapes"},
      {absl::StrReplaceAll(good, {{"\"strict.textproto\"",
                                   "\"" + std::string(201, 's') + "\""}}),
       "entries[1].description: longer than 200 bytes"},
      {absl::StrReplaceAll(good, {{"}\n]}", "},\n]}"}}),
       "entries[3]: expected '{' opening the entry, found ']'"},
      {absl::StrReplaceAll(good, {{"\"sequence\":2", "\"sequence\":\"2\""}}),
       "entries[1].sequence: expected an integer, found '\"'"},
      {absl::StrReplaceAll(good, {{"\"entries\":[", "\"entries\":{"}}),
       "entries: expected '[' opening the entries, found '{'"},
  };
  for (const Case& c : cases) {
    std::string replayed = "unchanged";
    const absl::Status s = VerifyLaunchLogJson(c.json, &replayed);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << c.want << ": " << s;
    bool found = false;
    for (absl::string_view want : absl::StrSplit(c.want, '|')) {
      found = found || absl::StrContains(s.message(), want);
    }
    EXPECT_TRUE(found) << "want \"" << c.want << "\", got: " << s;
    EXPECT_EQ(replayed, "unchanged") << c.want;
    EXPECT_FALSE(ParseLaunchLogJson(c.json).ok()) << c.want;
  }
}

TEST(LaunchLogTest, DescriptionIsCutAndCleaned) {
  LaunchLog log(FakeClock());
  const std::string long_text(300, 'd');
  LaunchLogEntry e = log.Measure(MeasurementKind::kPolicy, long_text, "x");
  EXPECT_EQ(e.description, std::string(LaunchLog::kMaxDescriptionBytes, 'd'));
  EXPECT_EQ(e.digest, Sha256("x"));  // the bytes, not the description
  // Exactly the bound is kept whole.
  e = log.Measure(MeasurementKind::kPolicy, std::string(200, 'e'), "x");
  EXPECT_EQ(e.description, std::string(200, 'e'));
  e = log.Measure(MeasurementKind::kRelabel,
                  std::string("tab\there\nnul\0\xff\x7f.", 16), "x");
  EXPECT_EQ(e.description, "tab?here?nul???.");
  EXPECT_EQ(log.Entries()[2].description, "tab?here?nul???.");
  // The cleaned log saves and verifies.
  EXPECT_TRUE(Verify(log.ToJson()).ok()) << Verify(log.ToJson());
}

TEST(LaunchLogTest, KindNamesRoundTrip) {
  const std::pair<MeasurementKind, absl::string_view> kinds[] = {
      {MeasurementKind::kConfig, "config"},
      {MeasurementKind::kPolicy, "policy"},
      {MeasurementKind::kPolicyModule, "policy-module"},
      {MeasurementKind::kRelabel, "relabel"},
      {MeasurementKind::kCapability, "capability"},
  };
  for (const auto& [kind, name] : kinds) {
    EXPECT_EQ(MeasurementKindName(kind), name);
    EXPECT_EQ(MeasurementKindFromName(name), kind);
  }
  EXPECT_FALSE(MeasurementKindFromName("Config").has_value());
  EXPECT_FALSE(MeasurementKindFromName("").has_value());
}

TEST(LaunchLogTest, ConcurrentMeasurementsGetUniqueSequencesAndReplay) {
  LaunchLog log;
  constexpr int kThreads = 4;
  constexpr int kEach = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = absl::StrCat(t, ":", i);
        const LaunchLogEntry e =
            log.Measure(MeasurementKind::kRelabel, id, "bytes " + id);
        // A snapshot taken meanwhile is consistent: its register is its
        // entries' replay.
        if (i % 50 == 0) {
          const SavedLaunchLog snap = log.Snapshot();
          Sha256Digest reg{};
          for (const LaunchLogEntry& s : snap.entries) {
            reg = ExtendRegister(reg, s.digest);
          }
          EXPECT_EQ(reg, snap.register_value);
          EXPECT_GE(snap.entries.size(), e.sequence);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::vector<LaunchLogEntry> entries = log.Entries();
  ASSERT_EQ(entries.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<std::string> measured;
  std::vector<int> next(kThreads, 0);  // each thread's measurements in order
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].sequence, i + 1);
    measured.push_back("bytes " + entries[i].description);
    EXPECT_EQ(entries[i].digest, Sha256(measured.back()));
    std::vector<std::string> parts =
        absl::StrSplit(entries[i].description, ':');
    const int t = std::stoi(parts[0]);
    EXPECT_EQ(std::stoi(parts[1]), next[t]++);
  }
  EXPECT_EQ(log.Register(), Replay(measured));
  EXPECT_TRUE(Verify(log.ToJson()).ok());
}

}  // namespace
}  // namespace argo::toolstack
