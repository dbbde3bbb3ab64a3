// What every demo scene needs to narrate real calls: print a line, and stop
// the demo with the error if a call that must succeed does not.
#ifndef DEMO_SCENE_OUTPUT_H_
#define DEMO_SCENE_OUTPUT_H_

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace argo::demo {

inline void Say(const std::string& line) { std::printf("%s\n", line.c_str()); }

inline void Check(const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "demo failed: %s\n", status.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> value) {
  Check(value.status());
  return *std::move(value);
}

}  // namespace argo::demo

#endif  // DEMO_SCENE_OUTPUT_H_
