#!/usr/bin/env bash
# Scene 4 (DESIGN §8): guests as real processes. argo-hv runs the embedded
# default configuration; argoctl hands out attach tokens and watches; each
# guest is its own argo-guest process attached over the io_uring transport.
# Clients name only their source port: the cables route them.
#
#   demo/guest_scene.sh BIN_DIR   (BIN_DIR holds argo-hv, cli/argoctl and
#                                  the argo-guest binary)
set -euo pipefail
bin="$1"
guest_bin="$2"
dir="$(mktemp -d /tmp/argo-demo-XXXXXX)"
socket="${dir}/run/argo-hv.sock"
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null || true; kill "${hv_pid:-}" 2>/dev/null || true; rm -rf "${dir}"' EXIT

step() { printf '\n$ %s\n' "$*"; "$@"; }
ctl() { step argoctl "$@"; }
argoctl() { "${bin}/cli/argoctl" --socket "${socket}" "$@"; }
# argo-guest as DOMAIN, its token from the environment (not on ps's lines).
as() {
  local domain="$1"
  shift
  ARGO_GUEST_TOKEN="${tokens[$domain]}" "${guest_bin}" --socket "${attach}" \
    --domain "${domain}" "$@"
}
guest() {
  printf '\n$ argo-guest --domain %s %s\n' "$1" "${*:2}"
  as "$@"
}
# The same in the background, as its own process (so $! is argo-guest's
# pid, for kill -9): spawn LOG DOMAIN ARGS...
spawn() {
  local log="$1"
  shift
  printf '$ argo-guest --domain %s %s &\n' "$1" "${*:2}"
  (ARGO_GUEST_TOKEN="${tokens[$1]}" exec "${guest_bin}" --socket "${attach}" \
    --domain "$@" > "${log}" 2>&1) &
}
# Waits until DOMAIN shows STATE in `argoctl domains`.
wait_state() {
  for _ in $(seq 200); do
    argoctl domains | grep -qE "^ *[0-9]+ +$1 .* $2 " && return 0
    sleep 0.05
  done
  echo "$1 never became $2" >&2
  return 1
}

echo "== Scene 4: guests as processes — argo-guest over the attach socket =="
"${bin}/argo-hv" --socket "${socket}" --config @default 2> "${dir}/argo-hv.log" &
hv_pid=$!
for _ in $(seq 100); do [[ -s "${dir}/argo-hv.log" ]] && break; sleep 0.05; done
cat "${dir}/argo-hv.log"
attach="$(argoctl topology | awk '/^attach:/ {print $2}')"

argoctl watch --for 60 > "${dir}/watch.log" 2> /dev/null &
watch_pid=$!
# The whole scene's traffic, refusals too: as pcapng (for Wireshark and the
# dissector) and as argoctl's own lines.
printf '$ argoctl capture --refused -w scene.pcapng &\n'
# (exec: $! is argoctl itself, which the SIGINT below must reach)
(exec "${bin}/cli/argoctl" --socket "${socket}" capture --refused \
  -w "${dir}/scene.pcapng" 2> "${dir}/capture.log") &
capture_pid=$!
(exec "${bin}/cli/argoctl" --socket "${socket}" capture --refused \
  > "${dir}/capture.txt" 2> /dev/null) &
capture_text_pid=$!
sleep 0.3

echo "# each domain's attach token (a fresh one each time; the old one dies)"
declare -A tokens
for d in storage client1 client2; do
  tokens[$d]="$(argoctl domain token "$d")"
  printf '$ argoctl domain token %s    -> %s…\n' "$d" "${tokens[$d]:0:8}"
done
ctl cables

echo
echo "# storage answers on port 80; its replies go back by the cable, too"
spawn "${dir}/storage.log" storage pong --port 80 --implicit
storage_pid=$!
pids+=("${storage_pid}")
wait_state storage running
ctl domains

echo "# client1 names only its source port 7 (cabled to storage:80):"
guest client1 --mode low-latency ping --port 7 --count 2000 --size 64

echo
echo "# client2 listens on 9; client1 sends from its port 9 (cabled one way)"
spawn "${dir}/client2.log" client2 listen --port 9 --count 2
client2_pid=$!
pids+=("${client2_pid}")
wait_state client2 running
guest client1 send --port 9 "hello client2, from port 9"

echo
echo "# SIGKILL storage's process: a domain crash"
step kill -9 "${storage_pid}"
wait "${storage_pid}" 2>/dev/null || true
wait_state storage created
ctl rings
echo "# its rings are gone; its cables stay (the toolstack owns them):"
ctl cables storage
echo "# the others still work:"
guest client1 send --port 9 "storage crashed; we did not"
wait "${client2_pid}" 2>/dev/null || true
echo "# what client2 received:"
cat "${dir}/client2.log"

echo
echo "# a new storage process attaches with the same token"
spawn "${dir}/storage2.log" storage pong --port 80 --implicit
pids+=($!)
wait_state storage running
guest client1 ping --port 7 --count 200 --size 64

echo
echo "# the strict policy: clients may send only to storage, never explicitly"
ctl policy load implicit_dest/policy/strict.textproto
ctl policy relabel storage storage_t
if guest client1 send --port 9 --to 3:9 "an explicit send"; then
  echo "the explicit send was not refused!"
  exit 1
else
  echo "(exit $?: refused, and audited)"
fi
sleep 0.3

kill -INT "${capture_pid}" "${capture_text_pid}" 2>/dev/null || true
wait "${capture_pid}" "${capture_text_pid}" 2>/dev/null || true
echo
echo "# what the capture saw ($(tail -1 "${dir}/capture.log" | sed 's/^argoctl: //')),"
echo "# the 64-byte ping-pong left out:"
if [[ -x /usr/bin/tshark ]]; then
  printf '$ tshark -r scene.pcapng -X lua_script:tools/wireshark/argo.lua -Y "argo.payload_len != 64"\n'
  HOME="${dir}" /usr/bin/tshark -r "${dir}/scene.pcapng" \
    -X lua_script:tools/wireshark/argo.lua -Y "argo.payload_len != 64" \
    2> /dev/null
else
  echo "(tshark is not installed: argoctl capture's own lines)"
  grep -v ' len 64' "${dir}/capture.txt"
fi

kill "${watch_pid}" 2>/dev/null || true
wait "${watch_pid}" 2>/dev/null || true
echo
echo "# what argoctl watch saw:"
cat "${dir}/watch.log"

kill -TERM "${hv_pid}"
wait "${hv_pid}" || true
hv_pid=
tail -1 "${dir}/argo-hv.log"
