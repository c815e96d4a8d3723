#!/usr/bin/env bash
# Puts per second and latency of lockstep's Raft KV next to etcd 3.4 under the same load: 3
# replicas on 127.0.0.1, the same closed-loop put driver (src/bench/put-load.ts) with 100 clients
# and then 1 client, each client with connections of its own, sending to the leader. The systems
# run one after the other, never together, so neither steals the other's CPU or disk.
#
# Usage: bench/etcd.sh [--duration S] [--warmup S] [--connections K] [--key-space N]
#                      [--etcd-client T] [--out DIR]
#   --duration S       measured seconds of load per run (default 10)
#   --warmup S         seconds of load before each measurement, not counted (default 5)
#   --connections K    the 100 clients share K connections, like etcd benchmark --conns
#                      (default 100: one each)
#   --key-space N      distinct keys written (default 10000)
#   --etcd-client T    http2 (default) or grpc-js: the gRPC transport of etcd's load generator
#                      (see bench/etcd-client.mjs; grpc-js costs the client far more CPU per put,
#                      which on a small machine slows etcd down)
#   --out DIR          also keep the four JSON results in DIR
#
# Installs etcd-server with apt-get when `etcd` is not on PATH (Debian bookworm ships 3.4) and
# builds dist/ when it is missing. Every process it starts is stopped on exit, Ctrl-C or TERM.
set -euo pipefail

duration=10
warmup=5
connections=100
key_space=10000
out_dir=""
etcd_client=http2
key_size=16
value_size=64

say() { printf 'etcd.sh: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}
usage() { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while (($# > 0)); do
  case $1 in
  --duration | --warmup | --connections | --key-space | --etcd-client | --out)
    (($# >= 2)) || die "$1 needs a value"
    case $1 in
    --duration) duration=$2 ;;
    --warmup) warmup=$2 ;;
    --connections) connections=$2 ;;
    --key-space) key_space=$2 ;;
    --etcd-client) etcd_client=$2 ;;
    --out) out_dir=$2 ;;
    esac
    shift 2
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $duration =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive integer, got '$duration'"
[[ $warmup =~ ^[0-9]+$ ]] || die "--warmup must be a whole number of seconds, got '$warmup'"
[[ $connections =~ ^[1-9][0-9]*$ ]] && ((connections <= 100)) ||
  die "--connections must be an integer from 1 to 100, got '$connections'"
[[ $key_space =~ ^[1-9][0-9]*$ ]] || die "--key-space must be a positive integer, got '$key_space'"
[[ $etcd_client == grpc-js || $etcd_client == http2 ]] ||
  die "--etcd-client must be grpc-js or http2, got '$etcd_client'"
# --out is relative to where the script was started, not to the repository it moves to.
if [[ -n $out_dir ]]; then out_dir=$(realpath -m -- "$out_dir"); fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Processes to stop on the way out: the etcd members and the node process in the foreground.
etcd_pids=()
child=""
work=""

# TERM, then KILL whatever is still there after 10 s. Bash reaps its exited children, so
# `kill -0` fails once a process is gone. (The node child must get TERM: `lockstep bench` stops
# its replica processes on it.)
stop_pids() {
  (($# > 0)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  local pid tries
  for ((tries = 0; tries < 100; tries++)); do
    local alive=0
    for pid in "$@"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    ((alive)) || break
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
  wait "$@" 2>/dev/null || true
}

cleanup() {
  local status=$?
  # A second Ctrl-C must not cut the cleanup short and leave etcd running.
  trap '' INT TERM
  if [[ -n $child ]]; then stop_pids "$child"; fi
  kill_etcd
  if [[ -n $work ]]; then rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The cluster is thrown away, so its members get KILL: on TERM a leader first tries to hand
# leadership to a follower, which is being stopped too, and gives up only after 7 s.
kill_etcd() {
  (("${#etcd_pids[@]}" > 0)) || return 0
  kill -KILL "${etcd_pids[@]}" 2>/dev/null || true
  wait "${etcd_pids[@]}" 2>/dev/null || true
  etcd_pids=()
}

# Runs a command in the background and waits for it: bash defers traps until a foreground command
# ends, but `wait` returns at once on a signal, so Ctrl-C stops a 10 s run right away.
run() {
  "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

if [[ ! -f dist/cli/main.js || ! -f dist/bench/put-load.js || ! -f dist/bench/progress-line.js ]]; then
  say "dist/ missing: npm run build"
  npm run build >&2
fi
if [[ $etcd_client == grpc-js && ! -d node_modules/@grpc/grpc-js ]]; then
  die "node_modules/@grpc/grpc-js missing (needed by --etcd-client grpc-js): run npm install"
fi

if ! command -v etcd >/dev/null; then
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "etcd is not installed and sudo is missing: install etcd-server"
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || die "etcd is not installed and apt-get is missing: install etcd 3.4"
  say "installing etcd-server with apt-get"
  # Debian's package also registers a service on the default ports 2379/2380; these runs use
  # other ports, so one that happens to start does not get in the way (but does cost a little CPU).
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >&2
  command -v etcd >/dev/null || die "apt-get installed etcd-server but etcd is not on PATH"
fi
etcd_version=$(etcd --version | sed -n 's/^etcd Version: //p')
[[ $etcd_version == 3.4.* ]] || say "warning: etcd $etcd_version, not 3.4.x"

# Same filesystem as `lockstep bench`, which keeps its cluster in os.tmpdir(): both WALs fsync to
# the same disk.
work=$(mktemp -d "${TMPDIR:-/tmp}/etcd-bench.XXXXXX")

# Six free ports from 23790 up: client and peer port per member. Binding is the only reliable
# test for "free".
read -r -a ports < <(node -e '
  const net = require("node:net");
  const free = (port) => new Promise((resolve) => {
    const server = net.createServer().once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
  (async () => {
    const found = [];
    for (let port = 23790; found.length < 6 && port < 65536; port++)
      if (await free(port)) found.push(port);
    console.log(found.join(" "));
  })();
')
((${#ports[@]} == 6)) || die "could not find 6 free ports from 23790 up"

initial_cluster=""
endpoints=""
for i in 0 1 2; do
  initial_cluster+="${initial_cluster:+,}e$i=http://127.0.0.1:${ports[2 * i + 1]}"
  endpoints+="${endpoints:+,}127.0.0.1:${ports[2 * i]}"
done

# etcd reads ETCD_* variables as flags (ETCD_UNSAFE_NO_FSYNC, say); none may leak into the run.
unset_etcd_env=()
while IFS= read -r name; do unset_etcd_env+=(-u "$name"); done < <(compgen -e | grep '^ETCD_' || true)

# Defaults everywhere that matters for speed: the WAL fsyncs every write batch (no
# --unsafe-no-fsync), --snapshot-count 100000. The backend quota is raised to etcd's suggested
# maximum (8 GiB) so a long run never trips the 2 GiB default's NOSPACE alarm; there is no
# compaction, so every revision stays.
say "starting etcd $etcd_version: 3 members, client endpoints $endpoints, data in $work"
for i in 0 1 2; do
  client_url=http://127.0.0.1:${ports[2 * i]}
  peer_url=http://127.0.0.1:${ports[2 * i + 1]}
  env "${unset_etcd_env[@]}" etcd \
    --name "e$i" \
    --data-dir "$work/e$i" \
    --listen-client-urls "$client_url" \
    --advertise-client-urls "$client_url" \
    --listen-peer-urls "$peer_url" \
    --initial-advertise-peer-urls "$peer_url" \
    --initial-cluster "$initial_cluster" \
    --initial-cluster-token "etcd-bench-$$" \
    --initial-cluster-state new \
    --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) \
    --logger zap \
    --log-outputs stderr \
    >"$work/e$i.log" 2>&1 &
  etcd_pids+=("$!")
done
pids=$(
  IFS=,
  echo "${etcd_pids[*]}"
)

# The lines of a member's log that say what went wrong: its error lines if it has any (a bad flag
# is reported above a screenful of usage), else its last lines.
show_log() {
  local log=$work/e$1.log
  grep -iE '"level":"(error|fatal|panic)"|^(panic|error)|flag provided' "$log" | tail -n 5 >&2 ||
    tail -n 15 "$log" >&2
}

# Exits with the log of the first member that is no longer running.
check_members() {
  local i
  for i in 0 1 2; do
    if ! kill -0 "${etcd_pids[i]}" 2>/dev/null; then
      say "etcd member e$i exited ($1); from its log:"
      show_log "$i"
      exit 1
    fi
  done
}

ready_by=$((SECONDS + 30))
until node bench/etcd-load.mjs --endpoints "$endpoints" --check-ready 2>"$work/ready.err"; do
  check_members "during startup"
  if ((SECONDS >= ready_by)); then
    say "etcd not ready after 30 s: $(tail -n 1 "$work/ready.err"); from e0's log:"
    show_log 0
    exit 1
  fi
  sleep 0.2
done

# The connections of a run: --connections for the 100 clients, one for the single client.
conns_for() { if (($1 == 1)); then echo 1; else echo "$connections"; fi; }

etcd_run() {
  local clients=$1
  say "etcd, $clients client(s) on $(conns_for "$clients") connection(s), $duration s"
  sync # leave no dirty pages from earlier work to slow this run's fsyncs
  run node bench/etcd-load.mjs --endpoints "$endpoints" --pids "$pids" --clients "$clients" \
    --connections "$(conns_for "$clients")" --duration "$duration" --warmup "$warmup" \
    --key-size "$key_size" --value-size "$value_size" \
    --key-space "$key_space" --client "$etcd_client" >"$work/etcd-$clients.json" ||
    {
      check_members "during the $clients-client run"
      die "etcd-load failed with $clients client(s)"
    }
  check_members "during the $clients-client run"
}
etcd_run 100
etcd_run 1

say "stopping etcd"
kill_etcd
rm -rf "$work"/e[0-2]

lockstep_run() {
  local clients=$1
  say "lockstep raft, $clients client(s) on $(conns_for "$clients") connection(s), $duration s"
  sync
  run node dist/cli/main.js bench --protocol raft --replicas 3 --clients "$clients" \
    --connections "$(conns_for "$clients")" --duration "$duration" --warmup "$warmup" \
    --key-size "$key_size" --value-size "$value_size" \
    --key-space "$key_space" --json >"$work/lockstep-$clients.json" ||
    die "lockstep bench failed with $clients client(s)"
}
lockstep_run 100
lockstep_run 1

results=("$work/etcd-100.json" "$work/etcd-1.json" "$work/lockstep-100.json" "$work/lockstep-1.json")
if [[ -n $out_dir ]]; then
  mkdir -p "$out_dir"
  cp "${results[@]}" "$out_dir/"
  say "results kept in $out_dir"
fi
echo
node bench/compare.mjs "${results[@]}"
