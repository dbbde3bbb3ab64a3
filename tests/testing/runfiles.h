// Reads a file of this workspace from the test's runfiles (a `data` dep).
#ifndef TESTS_TESTING_RUNFILES_H_
#define TESTS_TESTING_RUNFILES_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace argo::testing {

// `path` is workspace-relative, e.g. "implicit_dest/policy/strict.textproto".
// Returns "" if the file cannot be read.
inline std::string ReadRunfile(const std::string& path) {
  const char* root = std::getenv("TEST_SRCDIR");
  std::ifstream f(std::string(root != nullptr ? root : ".") + "/argo/" + path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

inline std::string StrictPolicyText() {
  return ReadRunfile("implicit_dest/policy/strict.textproto");
}

}  // namespace argo::testing

#endif  // TESTS_TESTING_RUNFILES_H_
