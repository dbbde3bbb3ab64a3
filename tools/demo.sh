#!/usr/bin/env bash
# The main job: the demo scenes, each a real run of the project's code.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(//demo:core_scene //demo:implicit_scene //demo:nesting_sim
         //toolstack_api:argo-hv
         //toolstack_api/cli:argoctl //guest/cli:argo-guest)
bazel build --config=opt "${targets[@]}" 2>/dev/null ||
  bazel build --config=opt "${targets[@]}"
bazel-bin/demo/core_scene
echo
bazel-bin/demo/implicit_scene implicit_dest/policy/strict.textproto
echo
demo/toolstack_scene.sh bazel-bin/toolstack_api
echo
demo/guest_scene.sh bazel-bin/toolstack_api bazel-bin/guest/cli/argo-guest
echo
# The nesting simulator's quick path: a tree of levels in one process.
bazel-bin/demo/nesting_sim --depth 2 --fanout 2 --cpus 2
echo
demo/nesting_scene.sh bazel-bin/toolstack_api bazel-bin/guest/cli/argo-guest
