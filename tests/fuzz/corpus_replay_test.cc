// Replays every file of a fuzz corpus through the target, in the normal
// test run (the fuzzer itself runs, time-bounded, from ./argo test).
#include <dirent.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(CorpusReplayTest, EveryCorpusInputRunsCleanly) {
  const char* dir_env = std::getenv("CORPUS_DIR");
  ASSERT_NE(dir_env, nullptr);
  std::string dir =
      std::string(std::getenv("TEST_SRCDIR")) + "/argo/" + dir_env;
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  int files = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ++files;
  }
  closedir(d);
  EXPECT_GE(files, 10) << "corpus too small";
}

}  // namespace
