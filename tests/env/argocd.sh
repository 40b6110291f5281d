# shellcheck shell=bash
# Argo CD for the end-to-end environment: the application-controller and repo-server (one Go
# binary, run under both names), a Redis per cluster, and a plain-directory Application served
# from a local git repository. Sourced by tests/env/{build,up,down} (one-line hooks each).
#
# Argo CD v3.6.1 needs go >= 1.27: the build takes go1.27.3 from the Go module proxy.
ARGOCD_VERSION=v3.6.1
ARGOCD_GOTOOLCHAIN=go1.27.3
# -cli: the binary also runs as the argocd CLI (the e2e comparison runs `argocd --core`).
ARGOCD_DIR=$TESTBIN/argocd-$ARGOCD_VERSION-cli

# ---- build (tests/env/build argocd) -----------------------------------------------------------
# argo-cd's go.mod replaces github.com/argoproj/argo-cd/gitops-engine/v3 with ./gitops-engine,
# a nested module that the argo-cd module zip leaves out, so neither `go install` nor a wrapper
# module works (`go get` of gitops-engine/v3 fails too). The build copies the argo-cd module
# out of the module cache, puts the gitops-engine/v3 module of the same release (fetched with
# `go mod download`) where the replace expects it, and builds inside the copy as the main
# module, so its own go.mod, go.sum and replaces apply unchanged.
build_argocd() {
  local out=$1 mdir gdir src=$BUILDROOT/argocd-$ARGOCD_VERSION
  local -x GOTOOLCHAIN=$ARGOCD_GOTOOLCHAIN
  local mod=github.com/argoproj/argo-cd/v3
  mdir=$(cd /tmp && module_dir "$mod@$ARGOCD_VERSION")
  gdir=$(cd /tmp && module_dir "github.com/argoproj/argo-cd/gitops-engine/v3@$ARGOCD_VERSION")
  # The controller's metrics server listens on "0.0.0.0:%d" (no flag for the address).
  patch_module_copy "$mdir" "$src" controller/appcontroller.go 's/"0\.0\.0\.0:%d"/"127.0.0.1:%d"/'
  rm -rf "$src/gitops-engine"
  cp -r "$gdir" "$src/gitops-engine"
  chmod -R u+w "$src/gitops-engine"
  # Argo CD's cmd/main.go links every component (CLI, API server, Dex, ApplicationSet and
  # notification controllers...). The test environment runs two of them, so a small main in
  # the copy dispatches the same way (ARGOCD_BINARY_NAME, else argv[0]) to just those two, to
  # git-ask-pass, which the repo-server runs as a git credential helper, and to the argocd
  # CLI, which the e2e tests compare the console with (`argocd --core` runs the API server
  # in-process against the Kubernetes API; no argocd-server runs here). One binary.
  mkdir -p "$src/cmd/shipdeck-argocd"
  cat >"$src/cmd/shipdeck-argocd/main.go" <<'GO'
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	cli "github.com/argoproj/argo-cd/v3/cmd/argocd/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
)

func main() {
	name := filepath.Base(os.Args[0])
	if v := os.Getenv("ARGOCD_BINARY_NAME"); v != "" {
		name = v
	}
	var command *cobra.Command
	switch name {
	case common.CommandApplicationController:
		command = appcontroller.NewCommand()
	case common.CommandRepoServer:
		command = reposerver.NewCommand()
	case common.CommandGitAskPass:
		command = gitaskpass.NewCommand()
	case common.CommandCLI:
		command = cli.NewCommand()
	default:
		fmt.Fprintf(os.Stderr, "unknown binary name %q: run as %s, %s or %s\n", name, common.CommandApplicationController, common.CommandRepoServer, common.CommandCLI)
		os.Exit(2)
	}
	if err := command.Execute(); err != nil {
		os.Exit(1)
	}
}
GO
  cd "$src"
  local v=$mod/common
  go build -o "$out/argocd" -ldflags "-s -w -X $v.version=${ARGOCD_VERSION#v} -X $v.gitCommit=release -X $v.gitTreeState=clean" ./cmd/shipdeck-argocd
  ln -sf argocd "$out/argocd-application-controller"
  ln -sf argocd "$out/argocd-repo-server"
  ln -sf argocd "$out/argocd-git-ask-pass"
  # The repo-server runs `git-verify-wrapper.sh <revision>` on every manifest request (the
  # image ships one); no GPG keys are configured here, so report what git says and succeed.
  printf '%s\n' '#!/bin/sh' 'git verify-commit --raw "$1" 2>&1' 'exit 0' >"$out/git-verify-wrapper.sh"
  chmod +x "$out/git-verify-wrapper.sh"
  mkdir -p "$out/crds"
  cp "$mdir"/manifests/crds/application-crd.yaml "$mdir"/manifests/crds/appproject-crd.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
  # Debian's redis-server (the one Redis each cluster's controller caches into, never its
  # packaged daemon) and git.
  build_system
}

# ---- runtime (tests/env/up, down) -------------------------------------------------------------
# Ports: after the per-cluster blocks (base+10..29), base+40+10*i for cluster i: redis,
# repo-server (gRPC), repo-server metrics, application-controller metrics (and /healthz); the
# git daemon serving the test repositories on base+38.
argocd_port() {
  local base=$((PORT_BASE + 80 + 10 * $(cluster_index "$1")))
  case $2 in
    redis) echo $((base + 0)) ;;
    repo-server) echo $((base + 1)) ;;
    repo-server-metrics) echo $((base + 2)) ;;
    controller-metrics) echo $((base + 3)) ;;
    *) die "unknown argocd component: $2" ;;
  esac
}
ARGOCD_GIT_PORT=$((PORT_BASE + 38))
ARGOCD_GIT_ROOT=$DATA/argocd-git
ARGOCD_NAMESPACE=argocd

argocd_built() { [[ -f $ARGOCD_DIR/.complete ]]; }

# The namespace, ConfigMaps, Secret and default AppProject an Argo CD install has (the API
# server would create the project; none runs here), and the CRDs.
argocd_manifests() {
  cat <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ARGOCD_NAMESPACE}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: $ARGOCD_NAMESPACE
  labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}
data:
  timeout.reconciliation: 15s
  # The in-cluster destination needs a pod's service account; the cluster Secret below
  # names this same API server instead.
  cluster.inClusterEnabled: "false"
  application.instanceLabelKey: app.kubernetes.io/instance
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-rbac-cm
  namespace: $ARGOCD_NAMESPACE
  labels: {app.kubernetes.io/name: argocd-rbac-cm, app.kubernetes.io/part-of: argocd}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cmd-params-cm
  namespace: $ARGOCD_NAMESPACE
  labels: {app.kubernetes.io/name: argocd-cmd-params-cm, app.kubernetes.io/part-of: argocd}
---
apiVersion: v1
kind: Secret
metadata:
  name: argocd-secret
  namespace: $ARGOCD_NAMESPACE
  labels: {app.kubernetes.io/name: argocd-secret, app.kubernetes.io/part-of: argocd}
stringData:
  server.secretkey: shipdeck-test-only
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: default, namespace: $ARGOCD_NAMESPACE}
spec:
  sourceRepos: ['*']
  destinations: [{namespace: '*', server: '*'}]
  clusterResourceWhitelist: [{group: '*', kind: '*'}]
---
# oncall may write what shipdeck's Argo CD actions write (sync, refresh, terminate, rollback).
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "shipdeck:oncall-argocd"}
rules:
- apiGroups: [argoproj.io]
  resources: [applications]
  verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "shipdeck:oncall-argocd"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "shipdeck:oncall-argocd"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "shipdeck:oncall"}
YAML
}

# After bootstrap_cluster: CRDs and the install's objects (CRDs even if no controller runs,
# so writes are still checked against the real API server's Application schema).
argocd_bootstrap() {
  local c=$1
  argocd_built || { log "argocd: not built (tests/env/build argocd); cluster $c has no Argo CD"; return 0; }
  kc "$c" apply --server-side -f "$ARGOCD_DIR/crds/" >/dev/null
  # (`kubectl wait` fails outright on a CRD whose status has no conditions yet.)
  wait_for "argocd CRDs established on $c" 60 argocd_crds_established "$c" || die "argocd: CRDs not established on $c"
  argocd_manifests | kc "$c" apply --server-side -f - >/dev/null
  argocd_cluster_secret "$c" | kc "$c" apply --server-side -f - >/dev/null
  argocd_stand_in_pods "$c" | kc "$c" apply --server-side -f - >/dev/null
}

# The argocd CLI's --core mode runs Argo CD's API server in-process and reaches the
# repo-server (8081) and redis (6379) the way it does on a real install: it picks a Running,
# Ready pod by its app.kubernetes.io/name label and port-forwards to it through the API
# server. No pod runs here, so each component has a stand-in pod on a kwok node (kwok marks
# it Running and Ready) and a kwok PortForward object that sends that pod's port to the
# component's real process on 127.0.0.1 (kwok plays the kubelet's port-forward; tests/env/up).
argocd_stand_in_pods() {
  local c=$1 name port target
  for name in argocd-repo-server argocd-redis; do
    case $name in
      argocd-repo-server) port=8081 target=$(argocd_port "$c" repo-server) ;;
      argocd-redis) port=6379 target=$(argocd_port "$c" redis) ;;
    esac
    cat <<YAML
---
apiVersion: v1
kind: Pod
metadata:
  name: $name
  namespace: $ARGOCD_NAMESPACE
  labels: {app.kubernetes.io/name: $name, app.kubernetes.io/part-of: argocd}
  annotations: {shipdeck.dev/stand-in: "port-forwarded by kwok to 127.0.0.1:$target"}
spec:
  nodeName: kwok-node-0
  containers:
  - {name: $name, image: shipdeck.test/argocd-stand-in:1, ports: [{containerPort: $port}]}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: $name, namespace: $ARGOCD_NAMESPACE}
spec:
  forwards:
  - ports: [$port]
    target: {address: 127.0.0.1, port: $target}
YAML
  done
}

# The destination cluster: this same API server, reached on 127.0.0.1 with the admin client
# certificate (Argo CD's built-in in-cluster destination needs a pod's service account).
argocd_cluster_secret() {
  local c=$1 b64='base64 -w0'
  cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: cluster-$c
  namespace: $ARGOCD_NAMESPACE
  labels: {argocd.argoproj.io/secret-type: cluster}
stringData:
  name: $c
  server: https://127.0.0.1:$(port "$c" apiserver)
  config: '{"tlsClientConfig": {"caData": "$($b64 <"$PKI/$c/ca.crt")", "certData": "$($b64 <"$PKI/$c/admin.crt")", "keyData": "$($b64 <"$PKI/$c/admin.key")"}}'
YAML
}

argocd_crds_established() {
  kc "$1" get crd applications.argoproj.io appprojects.argoproj.io \
    -o jsonpath='{.items[*].status.conditions[?(@.type=="Established")].status}' | grep -qx 'True True'
}

argocd_probe() {
  local c=$1
  redis-cli -h 127.0.0.1 -p "$(argocd_port "$c" redis)" ping 2>/dev/null | grep -q PONG &&
    curl -fsS --max-time 3 -o /dev/null "http://127.0.0.1:$(argocd_port "$c" repo-server-metrics)/metrics" &&
    curl -fsS --max-time 3 -o /dev/null "http://127.0.0.1:$(argocd_port "$c" controller-metrics)/healthz"
}

# Redis, repo-server and application-controller for cluster $1, all on 127.0.0.1; the
# controller's in-cluster destination is the same API server (its kubeconfig).
argocd_start() {
  local c=$1 kcfg=$CONF/$1-admin.kubeconfig bin=$ARGOCD_DIR/argocd
  argocd_built || return 0
  local redis_port repo_port tmp=$DATA/argocd-tmp-$c
  redis_port=$(argocd_port "$c" redis)
  repo_port=$(argocd_port "$c" repo-server)
  mkdir -p "$tmp" "$DATA/redis-$c"
  write_launcher "argocd-redis-$c" "$(command -v redis-server)" --bind 127.0.0.1 --port "$redis_port" \
    --save '' --appendonly no --dir "$DATA/redis-$c" --protected-mode yes
  start_launcher "argocd-redis-$c"
  # ARGOCD_BINARY_NAME picks the component (the binary dispatches on it, like argv[0]).
  # The repo-server serves TLS with the self-signed certificate it makes itself, as an
  # install does by default: the argocd CLI's --core mode has no plaintext switch, and it and
  # the controller accept that certificate (no strict validation, their default).
  write_launcher "argocd-repo-server-$c" ARGOCD_BINARY_NAME=argocd-repo-server TMPDIR="$tmp" \
    ARGOCD_GPG_ENABLED=false HOME="$tmp" PATH="$ARGOCD_DIR:/usr/local/bin:/usr/bin:/bin" "$bin" \
    --address 127.0.0.1 --port "$repo_port" --metrics-address 127.0.0.1 \
    --metrics-port "$(argocd_port "$c" repo-server-metrics)" --redis "127.0.0.1:$redis_port" \
    --client-ca-path= --loglevel info
  start_launcher "argocd-repo-server-$c"
  write_launcher "argocd-controller-$c" ARGOCD_BINARY_NAME=argocd-application-controller \
    TMPDIR="$tmp" HOME="$tmp" ARGOCD_CONTROLLER_REPLICAS=1 "$bin" \
    --kubeconfig "$kcfg" --namespace "$ARGOCD_NAMESPACE" --redis "127.0.0.1:$redis_port" \
    --repo-server "127.0.0.1:$repo_port" \
    --metrics-port "$(argocd_port "$c" controller-metrics)" --status-processors 2 \
    --operation-processors 2 --self-heal-timeout-seconds 2 --loglevel info
  start_launcher "argocd-controller-$c"
}

# A git daemon (read-only, loopback) serving $ARGOCD_GIT_ROOT: tests create bare repositories
# there and point Applications at git://127.0.0.1:$ARGOCD_GIT_PORT/<name>.
argocd_git_start() {
  argocd_built || return 0
  mkdir -p "$ARGOCD_GIT_ROOT"
  write_launcher argocd-git "$(command -v git)" daemon --listen=127.0.0.1 --port="$ARGOCD_GIT_PORT" \
    --base-path="$ARGOCD_GIT_ROOT" --export-all --reuseaddr "$ARGOCD_GIT_ROOT"
  start_launcher argocd-git
}

# Start everything and wait until it answers (one line in up's main).
argocd_up() {
  argocd_built || return 0
  local c deadline
  argocd_git_start
  for c in "${CLUSTERS[@]}"; do argocd_start "$c"; done
  for c in "${CLUSTERS[@]}"; do
    deadline=$((SECONDS + 120))
    until argocd_probe "$c"; do
      for p in "argocd-redis-$c" "argocd-repo-server-$c" "argocd-controller-$c"; do
        live_pid "$p" >/dev/null || { tail -n 25 "$LOGS/$p.log" >&2; die "argocd: $p exited"; }
      done
      ((SECONDS < deadline)) || die "argocd: cluster $c not ready after 120s (see $LOGS/argocd-*-$c.log)"
      sleep 0.5
    done
    log "argocd-$c ready"
  done
}

# Lines for env.sh (inside write_env_sh's block).
argocd_env() {
  argocd_built || return 0
  echo "export SHIPDECK_TESTENV_ARGOCD_NAMESPACE=$ARGOCD_NAMESPACE"
  echo "export SHIPDECK_TESTENV_ARGOCD_GIT_ROOT=$ARGOCD_GIT_ROOT"
  echo "export SHIPDECK_TESTENV_ARGOCD_GIT_URL=git://127.0.0.1:$ARGOCD_GIT_PORT"
  # The argocd CLI (the same binary under its own name), for `argocd --core` comparisons.
  echo "export SHIPDECK_TESTENV_ARGOCD_CLI=$ARGOCD_DIR/argocd"
  local c
  for c in "${CLUSTERS[@]}"; do
    echo "export SHIPDECK_TESTENV_ARGOCD_DEST_${c^^}=https://127.0.0.1:$(port "$c" apiserver)"
  done
}
