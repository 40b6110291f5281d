# shellcheck shell=bash
# Shared settings for tests/env/{build,up,down,ctl}. Sourced, not executed.
#
# Versions: Kubernetes 1.34.1 is exactly the library version Argo Rollouts v1.9.3 pins
# (k8s.io/* v0.34.1), so the Go build cache shares the compiled client-go/apimachinery
# packages between the two builds. kubeadm pairs Kubernetes 1.34 with etcd 3.6.x.
K8S_VERSION=v1.34.1
ETCD_VERSION=v3.6.5
ARGO_ROLLOUTS_VERSION=v1.9.3
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
FLAGGER_DIR=$TESTBIN/flagger-$FLAGGER_VERSION
KWOK_DIR=$TESTBIN/kwok-$KWOK_VERSION

# Never let `go` fetch another toolchain: only the module proxy is reachable, and the
# machine's Go is new enough for every module here.
export GOTOOLCHAIN=local

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
