#!/usr/bin/env bash
# Installs every Debian 12 package the project needs. Idempotent: when all
# are present it only runs dpkg-query and returns.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap
  clang
  libclang-rt-14-dev
  pkg-config
  libabsl-dev
  liburing-dev
  libprotobuf-dev
  protobuf-compiler
  libgrpc++-dev
  protobuf-compiler-grpc
  libbenchmark-dev
  libgtest-dev
  libgmock-dev
  python3
  tshark  # reads capture files with tools/wireshark/argo.lua (dissector_test)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
# wireshark-common (pulled in by tshark) asks whether non-root users may
# capture through a setuid dumpcap. We only read files: answer "no" up
# front, so the install never stops for a question whatever the frontend.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
  "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q "${missing[@]}"
