# shellcheck shell=bash
# Shared settings for tests/env/{build,up,down,ctl}. Sourced, not executed.
#
# Versions: Kubernetes 1.34 (Argo Rollouts v1.10.2 pins k8s.io/* v0.34.5). kubeadm pairs
# Kubernetes 1.34 with etcd 3.6.x.
K8S_VERSION=v1.34.1
ETCD_VERSION=v3.6.5
# Argo Rollouts v1.10.2, not v1.9.x: v1.9.x writes its own patch result back into the
# informer cache (`writeBackToInformer`), which can overwrite a newer object the watch has just
# delivered — an operator's abort that lands within milliseconds of the controller's own status
# write is then ignored until some other event arrives (seen as a 90 s e2e timeout, 1 run in 4).
# v1.10 replaced the write-back with a resourceVersion tracker that requeues on a stale cache.
# It needs go >= 1.26.10: the build takes the toolchain below from the Go module proxy.
ARGO_ROLLOUTS_VERSION=v1.10.2
ARGO_ROLLOUTS_GOTOOLCHAIN=go1.27.3
FLAGGER_VERSION=v1.44.0
KWOK_VERSION=v0.8.0

# Binaries live outside the repo, keyed by component and version, so a fresh clone (CI) or
# `cargo clean` never rebuilds them.
TESTBIN=${SHIPDECK_TESTBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/shipdeck/testbin}
# Scratch wrapper modules for the builds (also outside the repo).
BUILDROOT=${SHIPDECK_BUILDROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/shipdeck/build}

KUBE_DIR=$TESTBIN/kubernetes-$K8S_VERSION
ETCD_DIR=$TESTBIN/etcd-$ETCD_VERSION
ARGO_DIR=$TESTBIN/argo-rollouts-$ARGO_ROLLOUTS_VERSION
ARGO_PLUGIN_DIR=$TESTBIN/argo-rollouts-plugin-$ARGO_ROLLOUTS_VERSION
FLAGGER_DIR=$TESTBIN/flagger-$FLAGGER_VERSION
# -locked: built against easycel with locked caches (tests/env/build build_kwok).
KWOK_DIR=$TESTBIN/kwok-$KWOK_VERSION-locked
KUBECTL_DIR=$TESTBIN/kubectl-$K8S_VERSION
# kubectl: the machine's own if it has one, else the one tests/env/build makes.
KUBECTL=$(command -v kubectl || echo "$KUBECTL_DIR/kubectl")

# Never let `go` fetch another toolchain implicitly: a build that needs a newer one names it
# (ARGO_ROLLOUTS_GOTOOLCHAIN), and that toolchain comes from the Go module proxy.
export GOTOOLCHAIN=local

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- runtime layout (used by up, down, ctl) -------------------------------------------------
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${SHIPDECK_TESTENV_DIR:-$REPO/target/testenv}
CLUSTERS=(a b)
# etcd and Prometheus data live on tmpfs: nothing here needs to survive a reboot, and fsync
# on a shared 2-core VM is the slowest part of an apiserver write. One dir per state dir so
# two worktrees on one machine do not share data.
STATE_ID=$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)
DATA=${SHIPDECK_TESTENV_DATA:-/dev/shm/shipdeck-testenv-$STATE_ID}

# Port plan: base + fixed offsets. The base is derived from the state dir so two worktrees
# (or a developer and CI) on one machine do not collide; it stays below the Linux ephemeral
# range (32768+) so outgoing connections never grab one of our ports first.
PORT_BASE=${SHIPDECK_TESTENV_PORT_BASE:-$((20000 + (STATE_ID % 120) * 100))}
ETCD_PORT=$((PORT_BASE + 0))
ETCD_PEER_PORT=$((PORT_BASE + 1))
PROM_PORT=$((PORT_BASE + 2))
cluster_index() { case $1 in a) echo 0 ;; b) echo 1 ;; *) die "unknown cluster: $1" ;; esac; }
# port <cluster> <component>
port() {
  local base=$((PORT_BASE + 10 + 10 * $(cluster_index "$1")))
  case $2 in
    apiserver) echo $((base + 0)) ;;
    controller-manager) echo $((base + 1)) ;;
    scheduler) echo $((base + 2)) ;;
    kwok) echo $((base + 3)) ;;
    rollouts-healthz) echo $((base + 4)) ;;
    rollouts-metrics) echo $((base + 5)) ;;
    flagger) echo $((base + 6)) ;;
    loadtester) echo $((base + 7)) ;;
    *) die "unknown component: $2" ;;
  esac
}

PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$STATE/pids
RUN=$STATE/run
CONF=$STATE/config

# ---- process management ----------------------------------------------------------------------
# Every process is started from a launcher script $RUN/<name>.sh (so `ctl` can restart it with
# exactly the same flags), in its own session (so a Ctrl-C in the terminal or the end of a test
# process does not take it down), with its log in $LOGS/<name>.log and its PID in
# $PIDS/<name>.pid.
# Usage: write_launcher <name> [VAR=value...] <binary> [args...]
write_launcher() {
  local name=$1
  shift
  mkdir -p "$RUN"
  {
    echo '#!/usr/bin/env bash'
    while [[ $1 == [A-Z_]*=* ]]; do
      printf 'export %q\n' "$1"
      shift
    done
    printf 'exec'
    printf ' %q' "$@"
    echo
  } >"$RUN/$name.sh"
  chmod +x "$RUN/$name.sh"
}

start_launcher() {
  local name=$1
  mkdir -p "$LOGS" "$PIDS"
  echo "---- $(date -Is) start" >>"$LOGS/$name.log"
  setsid "$RUN/$name.sh" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

# PID of a started process if it is still alive and still the process we started (guards
# against PID reuse: the command line must mention the binary of its launcher).
live_pid() {
  local f=$PIDS/$1.pid pid exe
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  kill -0 "$pid" 2>/dev/null || return 1
  exe=$(sed -n 's/^exec \([^ ]*\).*/\1/p' "$RUN/$1.sh" 2>/dev/null)
  [[ -n $exe ]] || return 1
  # Before its exec the process is still setsid/bash running the launcher script.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -e "$exe" -e "$RUN/$1.sh" || return 1
  echo "$pid"
}

# Stop one process by PID: SIGTERM, wait up to $2 seconds (default 20), then SIGKILL.
stop_proc() {
  local name=$1 timeout=${2:-20} pid i
  if pid=$(live_pid "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) ignored SIGTERM for ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
  fi
  rm -f "$PIDS/$name.pid"
}

# wait_for <what> <timeout-seconds> <command...>: poll every 0.5 s until the command succeeds.
wait_for() {
  local what=$1 timeout=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}

# True when every CRD named (cluster $1, then names) has condition Established=True.
# (`kubectl wait --for=condition=Established` fails outright, instead of waiting, on a CRD
# whose status has no conditions yet: right after it is created, that can happen.)
crds_established() {
  local c=$1 want
  shift
  want=$(printf 'True %.0s' "$@")
  [[ "$(kc "$c" get crd "$@" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Established")].status}{" "}{end}' 2>/dev/null)" == "$want" ]]
}

# Wait (up to 60 s) until the CRDs named are established on cluster $1; fail if not.
wait_crds() {
  local c=$1
  shift
  wait_for "CRDs established on $c: $*" 60 crds_established "$c" "$@" || die "CRDs not established on $c: $*"
}

# curl against cluster $1's apiserver as admin (for readiness probes).
api_curl() {
  local c=$1
  shift
  curl -fsS --max-time 5 --cacert "$PKI/$c/ca.crt" --cert "$PKI/$c/admin.crt" --key "$PKI/$c/admin.key" \
    "https://127.0.0.1:$(port "$c" apiserver)$1"
}
apiserver_ready() { [[ $(api_curl "$1" /readyz) == ok ]]; }

# Stop several processes at once: SIGTERM to all, wait up to $1 seconds for all of them,
# SIGKILL whatever is left. Usage: stop_group <timeout> <name>...
stop_group() {
  local timeout=$1 name pid i alive
  shift
  local -A pids=()
  for name in "$@"; do
    if pid=$(live_pid "$name"); then
      pids[$name]=$pid
      kill -TERM "$pid" 2>/dev/null || true
    else
      rm -f "$PIDS/$name.pid"
    fi
  done
  for ((i = 0; i < timeout * 10; i++)); do
    alive=0
    for name in "${!pids[@]}"; do kill -0 "${pids[$name]}" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    pid=${pids[$name]}
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) ignored SIGTERM for ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$PIDS/$name.pid"
    log "stopped $name"
  done
}
