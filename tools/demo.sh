#!/usr/bin/env bash
# The main job: the demo scenes, each a real run of the project's code.
set -euo pipefail
cd "$(dirname "$0")/.."

bazel build --config=opt //demo:core_scene //demo:implicit_scene 2>/dev/null ||
  bazel build --config=opt //demo:core_scene //demo:implicit_scene
bazel-bin/demo/core_scene
echo
bazel-bin/demo/implicit_scene implicit_dest/policy/strict.textproto
