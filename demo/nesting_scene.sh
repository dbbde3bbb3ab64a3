#!/usr/bin/env bash
# Scene 5 (DESIGN §7): the full mission. Three argo-hv processes — L0, L1
# and L2, each child attached to its parent as the guest process of its
# domain there — each level's toolstack cabling only its own guests, and
# guests as argo-guest processes. An L2 guest sends naming only its source
# port; an L0 storage guest receives it with the path of names; the reply
# travels back down.
#
#   demo/nesting_scene.sh BIN_DIR GUEST_BIN
set -euo pipefail
bin="$1"
guest_bin="$2"
dir="$(mktemp -d /tmp/argo-nest-XXXXXX)"
hv_pids=()
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null || true; kill "${hv_pids[@]}" 2>/dev/null || true; wait 2>/dev/null; rm -rf "${dir}"' EXIT

# argoctl at level L: ctl L ARGS...
ctl() {
  local level="$1"
  shift
  printf '\n[%s]$ argoctl %s\n' "${level}" "$*"
  "${bin}/cli/argoctl" --socket "${dir}/${level}/argo-hv.sock" "$@"
}
quiet_ctl() {
  local level="$1"
  shift
  "${bin}/cli/argoctl" --socket "${dir}/${level}/argo-hv.sock" "$@"
}
attach_of() { quiet_ctl "$1" topology | awk '/^attach:/ {print $2}'; }
# Starts argo-hv for LEVEL with extra flags and waits for its start line.
start_level() {
  local level="$1"
  shift
  mkdir -p "${dir}/${level}"
  printf '\n[%s]$ argo-hv --socket %s/argo-hv.sock %s &\n' "${level}" \
    "${level}" "$(echo "$*" | sed -E 's/--parent-token [^ ]+/--parent-token …/')"
  "${bin}/argo-hv" --socket "${dir}/${level}/argo-hv.sock" "$@" \
    2> "${dir}/${level}/argo-hv.log" &
  hv_pids+=($!)
  for _ in $(seq 200); do
    grep -q ' started ' "${dir}/${level}/argo-hv.log" 2>/dev/null && break
    sleep 0.05
  done
  head -3 "${dir}/${level}/argo-hv.log"
}
# argo-guest at LEVEL as DOMAIN (token from the environment, not on ps).
as() {
  local level="$1" domain="$2"
  shift 2
  ARGO_GUEST_TOKEN="$(quiet_ctl "${level}" domain token "${domain}")" \
    "${guest_bin}" --socket "$(attach_of "${level}")" --domain "${domain}" "$@"
}
guest() {
  printf '\n[%s]$ argo-guest --domain %s %s\n' "$1" "$2" "${*:3}"
  as "$@"
}
spawn() {
  local log="$1"
  shift
  printf '\n[%s]$ argo-guest --domain %s %s &\n' "$1" "$2" "${*:3}"
  (as "$@" > "${log}" 2>&1) &
  pids+=($!)
}
wait_running() {
  for _ in $(seq 200); do
    quiet_ctl "$1" domains | grep -qE "^ *[0-9]+ +$2 .* running " && return 0
    sleep 0.05
  done
  echo "$2 at $1 never attached" >&2
  return 1
}

echo "== Scene 5: nesting — L0, L1 and L2 as three argo-hv processes =="
start_level l0
ctl l0 domain create storage
ctl l0 domain create l1 --memory 1024

echo
echo "# L1 attaches to L0 as the process of its domain l1 there (2 CPUs: two"
echo "# receive buffers in L0, one drainer each)"
start_level l1 --parent "$(attach_of l0)" --parent-domain l1 \
  --parent-token "$(quiet_ctl l0 domain token l1)" --cpus 2
wait_running l0 l1
ctl l1 domain create web
ctl l1 domain create l2 --memory 1024
start_level l2 --parent "$(attach_of l1)" --parent-domain l2 \
  --parent-token "$(quiet_ctl l1 domain token l2)" --cpus 2
wait_running l1 l2
ctl l2 domain create app

echo
echo "# each level's toolstack cables only its own guests:"
ctl l2 connect app:100 parent:7
ctl l1 connect l2:7 parent:8
ctl l0 connect l1:8 storage:50
ctl l1 topology

echo
echo "# storage (at L0) listens; app (at L2) sends naming only its port 100"
spawn "${dir}/storage.log" l0 storage listen --port 50 --count 1
wait_running l0 storage
guest l2 app send --port 100 "hello from L2, port 100"
wait "${pids[-1]}" 2>/dev/null || true
echo "# what storage received (the header names l1:8; the path, the rest):"
cat "${dir}/storage.log"

echo
echo "# the reply goes back down by the same cables"
spawn "${dir}/app.log" l2 app listen --port 100 --count 1
wait_running l2 app
guest l0 storage send --port 50 "ack from storage at L0"
wait "${pids[-1]}" 2>/dev/null || true
echo "# what app at L2 received:"
cat "${dir}/app.log"

ctl l1 stats

echo
echo "# SIGKILL L2's argo-hv: L1 resets its domain l2 (a crash; its cables"
echo "# at L1 stay, its process is gone)"
kill -9 "${hv_pids[-1]}"
wait "${hv_pids[-1]}" 2>/dev/null || true
unset 'hv_pids[-1]'
for _ in $(seq 200); do
  quiet_ctl l1 domains | grep -qE "^ *[0-9]+ +l2 .* running " || break
  sleep 0.05
done
ctl l1 domains
echo "# a new L2 process attaches as domain l2 again; its own toolstack"
echo "# starts empty, so it creates and cables app again"
start_level l2 --parent "$(attach_of l1)" --parent-domain l2 \
  --parent-token "$(quiet_ctl l1 domain token l2)" --cpus 2
wait_running l1 l2
ctl l2 domain create app
ctl l2 connect app:100 parent:7
spawn "${dir}/storage2.log" l0 storage listen --port 50 --count 1
wait_running l0 storage
guest l2 app send --port 100 "L2 is back"
wait "${pids[-1]}" 2>/dev/null || true
echo "# what storage received:"
cat "${dir}/storage2.log"

echo
echo "# summary"
printf '  %-44s %s\n' "L2 app:100 -> L0 storage:50, path of names" \
  "$(grep -o 'path [^ ]*' "${dir}/storage.log" | head -1)"
printf '  %-44s %s\n' "L0 storage:50 -> L2 app:100, path of names" \
  "$(grep -o 'path [^ ]*' "${dir}/app.log" | head -1)"
if [[ -f bench/report.md ]]; then
  echo "  benchmark headline (bench/report.md, ./argo bench):"
  grep -E 'sendv_64B_over_cpuid|nest_' bench/report.md | sed 's/^/    /' || true
fi

for p in "${hv_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait "${hv_pids[@]}" 2>/dev/null || true
hv_pids=()
