#!/usr/bin/env bash
# Scene 3 (DESIGN §6): a real argo-hv on a unix socket, configured by the
# embedded default configuration, driven with argoctl, watched, and shut
# down cleanly. Guest traffic is scene 4 (demo/guest_scene.sh, §8): the
# daemon has no back door for sending on a guest's behalf.
#
#   demo/toolstack_scene.sh BIN_DIR   (BIN_DIR holds argo-hv and argoctl)
set -euo pipefail
bin="$1"
dir="$(mktemp -d /tmp/argo-demo-XXXXXX)"
socket="${dir}/run/argo-hv.sock"
trap 'kill "${hv_pid:-}" 2>/dev/null || true; rm -rf "${dir}"' EXIT

step() { printf '\n$ %s\n' "$*"; "$@"; }
ctl() { step argoctl "$@"; }
argoctl() { "${bin}/cli/argoctl" --socket "${socket}" "$@"; }

echo "== Scene 3: the toolstack — argo-hv driven by argoctl =="
"${bin}/argo-hv" --socket "${socket}" --config @default 2> "${dir}/argo-hv.log" &
hv_pid=$!
for _ in $(seq 100); do [[ -S "${socket}" ]] && break; sleep 0.05; done
cat "${dir}/argo-hv.log"

# A watcher in the background sees everything that follows.
argoctl watch --for 30 > "${dir}/watch.log" 2> /dev/null &
watch_pid=$!
sleep 0.3

ctl domains
ctl cables
ctl connect client2:9 client1:9 --one-way
ctl explain client1:7
ctl rings
ctl stats
ctl policy load implicit_dest/policy/strict.textproto
ctl policy relabel storage storage_t
echo "# under the strict policy, clients may not talk to each other:"
ctl explain client1:9
ctl --json explain client1:9
echo "# a bad configuration is refused whole, naming its line:"
printf 'domain { name: "new" }\ndomain { name: "storage" }\n' > "${dir}/bad.textproto"
step argoctl apply "${dir}/bad.textproto" || echo "(exit $?)"
ctl domains
ctl topology

kill "${watch_pid}" 2>/dev/null || true
wait "${watch_pid}" 2>/dev/null || true
echo
echo "# what the watcher saw:"
cat "${dir}/watch.log"

echo
echo "# SIGTERM: argo-hv stops cleanly and removes its socket"
kill -TERM "${hv_pid}"
wait "${hv_pid}"
hv_pid=
tail -1 "${dir}/argo-hv.log"
if [[ -e "${socket}" ]]; then echo "socket left behind!"; exit 1; fi
echo "socket removed: ${socket}"
