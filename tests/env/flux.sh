# shellcheck shell=bash
# Flux (source-controller, kustomize-controller) and a loopback git server for the e2e
# environment. Sourced by tests/env/build, up and down (after lib.sh); defines functions only,
# plus the versions and paths below.
FLUX_SOURCE_VERSION=v1.9.6
FLUX_KUSTOMIZE_VERSION=v1.9.6
FLUX_DIR=$TESTBIN/flux-$FLUX_SOURCE_VERSION-$FLUX_KUSTOMIZE_VERSION
GITSERVER_DIR=$TESTBIN/gitserver-1
# The flux CLI of the Flux release that ships these controllers (flux2 v2.9: source- and
# kustomize-controller v1.9), which the e2e suite compares the console with.
FLUX_CLI_VERSION=v2.9.5
FLUX_CLI_DIR=$TESTBIN/flux-cli-$FLUX_CLI_VERSION
# Versions the Go module proxy refuses here, replaced by the nearest it serves.
FLUX_PINS=(github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@v0.18.0)

# ---- build ----------------------------------------------------------------------------------

# The wrapper module for one Flux controller (its main package is the module root). Their
# go.mod replace their own ./api (absent from the module download: it is a module of its own,
# so the published version in the require list is used) and a few dependencies; replaces only
# apply in the main module, so the wrapper copies every one but ./api.
flux_wrapper() {
  local name=$1 mod=$2 version=$3 wdir gomod
  wdir=$(new_wrapper "$name-$version")
  cd "$wdir"
  gomod=$(module_gomod "$mod@$version")
  {
    echo
    awk '/^replace \($/{inb=1; print; next} inb{print; if ($0 ~ /^\)$/) inb=0; next} /^replace /{print}' "$gomod" |
      grep -v '=> \./'
  } >>go.mod
  # The module proxy refuses some versions these controllers require (403 "not available"):
  # pin the nearest served one.
  local pin
  for pin in "${FLUX_PINS[@]}"; do go mod edit -replace="$pin"; done
  go get -tool "$mod@$version" >/dev/null
  echo "$wdir"
}

build_flux() {
  local out=$1 wdir mdir
  # Each controller's metrics and health servers take their address from flags
  # (--metrics-addr, --health-addr, --storage-addr): nothing to patch for loopback.
  wdir=$(flux_wrapper source-controller github.com/fluxcd/source-controller "$FLUX_SOURCE_VERSION")
  (cd "$wdir" && go build -o "$out/source-controller" -ldflags "-s -w" github.com/fluxcd/source-controller)
  mdir=$(cd "$wdir" && module_dir "github.com/fluxcd/source-controller@$FLUX_SOURCE_VERSION")
  mkdir -p "$out/crds"
  # Every source CRD: the controller refuses to start without all the kinds it serves.
  cp "$mdir"/config/crd/bases/*.yaml "$out/crds/"
  wdir=$(flux_wrapper kustomize-controller github.com/fluxcd/kustomize-controller "$FLUX_KUSTOMIZE_VERSION")
  (cd "$wdir" && go build -o "$out/kustomize-controller" -ldflags "-s -w" github.com/fluxcd/kustomize-controller)
  mdir=$(cd "$wdir" && module_dir "github.com/fluxcd/kustomize-controller@$FLUX_KUSTOMIZE_VERSION")
  cp "$mdir"/config/crd/bases/*.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
}

# The flux CLI (`flux get`, `flux suspend`, `flux resume`), which e2e_flux compares the
# console's view and writes with. flux2's go.mod has a replace, so `go install mod@version`
# refuses it, and cmd/flux embeds manifests/*.yaml, which flux2's Makefile generates and the
# module download leaves out. The build copies the module out of the cache, puts one
# placeholder manifest there (this build cannot `flux install`; no test asks it to) and
# builds inside the copy as the main module, so flux2's own go.mod and go.sum apply.
build_flux_cli() {
  local out=$1 mdir src=$BUILDROOT/flux2-$FLUX_CLI_VERSION
  mdir=$(cd /tmp && module_dir "github.com/fluxcd/flux2/v2@$FLUX_CLI_VERSION")
  rm -rf "$src"
  cp -r "$mdir" "$src"
  chmod -R u+w "$src"
  mkdir -p "$src/cmd/flux/manifests"
  echo '# placeholder: this build does not embed the install manifests' >"$src/cmd/flux/manifests/none.yaml"
  (cd "$src" && go build -o "$out/flux" -ldflags "-s -w -X main.VERSION=${FLUX_CLI_VERSION#v}" ./cmd/flux)
}

# The git server: Debian's git (`git http-backend`, the smart HTTP protocol go-git speaks)
# behind a few lines of Go's net/http/cgi, listening on 127.0.0.1 only. Standard library only.
build_gitserver() {
  local out=$1 wdir
  build_system # Debian's git
  wdir=$(new_wrapper gitserver)
  cat >"$wdir/main.go" <<'GO'
// gitserver serves the bare repositories under -root over git's smart HTTP protocol by
// running `git http-backend` as a CGI program. Read-only: pushes are refused.
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	root := flag.String("root", "", "directory of bare repositories")
	flag.Parse()
	if !strings.HasPrefix(*addr, "127.0.0.1:") {
		log.Fatalf("refusing to listen on %q: loopback only", *addr)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		log.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + *root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	http.Handle("/", backend)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
GO
  (cd "$wdir" && go build -o "$out/gitserver" -ldflags "-s -w" .)
}

# ---- run (tests/env/up) ---------------------------------------------------------------------
# Flux is part of the environment once `tests/env/build flux` has made it; without it the
# rest comes up as before (and the Flux e2e tests say the component is missing).
flux_enabled() { [[ -f $FLUX_DIR/.complete && -f $GITSERVER_DIR/.complete ]]; }

# Ports: a block of their own above the clusters' (base+50.. per cluster, git at base+75).
flux_port() {
  local base=$((PORT_BASE + 50 + 10 * $(cluster_index "$1")))
  case $2 in
    source-metrics) echo $((base + 0)) ;;
    source-health) echo $((base + 1)) ;;
    source-storage) echo $((base + 2)) ;;
    kustomize-metrics) echo $((base + 3)) ;;
    kustomize-health) echo $((base + 4)) ;;
    *) die "unknown Flux component: $2" ;;
  esac
}
GITSERVER_PORT=$((PORT_BASE + 75))
# Bare repositories the git server serves (tests create theirs here).
GIT_ROOT=$STATE/git

flux_cluster_procs() { flux_enabled && echo "source-controller-$1 kustomize-controller-$1" || true; }
flux_global_procs() { flux_enabled && echo gitserver || true; }

flux_ports() {
  local c
  flux_enabled || return 0
  echo "$GITSERVER_PORT"
  for c in "${CLUSTERS[@]}"; do
    flux_port "$c" source-metrics; flux_port "$c" source-health; flux_port "$c" source-storage
    flux_port "$c" kustomize-metrics; flux_port "$c" kustomize-health
  done
}

flux_probe() {
  local name=$1 c=${1##*-}
  case $name in
    gitserver) curl -fsS --max-time 3 -o /dev/null "http://127.0.0.1:$GITSERVER_PORT/healthz" ;;
    source-controller-*) curl -fsS --max-time 3 -o /dev/null "http://127.0.0.1:$(flux_port "$c" source-health)/readyz" ;;
    kustomize-controller-*) curl -fsS --max-time 3 -o /dev/null "http://127.0.0.1:$(flux_port "$c" kustomize-health)/readyz" ;;
    *) die "no probe for $name" ;;
  esac
}

flux_launch_gitserver() {
  flux_enabled || { log "flux: not built (tests/env/build flux): skipped"; return 0; }
  mkdir -p "$GIT_ROOT"
  write_launcher gitserver "$GITSERVER_DIR/gitserver" --addr="127.0.0.1:$GITSERVER_PORT" --root="$GIT_ROOT"
  start_launcher gitserver
}

# CRDs (GitRepository, OCIRepository, Kustomization, ...) and the controllers' namespace.
flux_bootstrap() {
  local c=$1
  flux_enabled || return 0
  kc "$c" apply --server-side -f "$FLUX_DIR/crds/" >/dev/null
  kc "$c" create namespace flux-system --dry-run=client -o yaml | kc "$c" apply -f - >/dev/null
  wait_crds "$c" \
    gitrepositories.source.toolkit.fluxcd.io ocirepositories.source.toolkit.fluxcd.io \
    kustomizations.kustomize.toolkit.fluxcd.io
}

# Both controllers of one cluster, every listener on 127.0.0.1: metrics, health, and the
# source-controller's artifact server (which kustomize-controller fetches artifacts from).
flux_launch() {
  local c=$1 kcfg=$2 storage
  flux_enabled || return 0
  storage=$DATA/flux-$c
  mkdir -p "$storage"
  write_launcher "source-controller-$c" KUBECONFIG="$kcfg" RUNTIME_NAMESPACE=flux-system \
    "$FLUX_DIR/source-controller" --watch-all-namespaces=true --enable-leader-election=false \
    --metrics-addr="127.0.0.1:$(flux_port "$c" source-metrics)" \
    --health-addr="127.0.0.1:$(flux_port "$c" source-health)" \
    --storage-addr="127.0.0.1:$(flux_port "$c" source-storage)" \
    --storage-adv-addr="127.0.0.1:$(flux_port "$c" source-storage)" \
    --storage-path="$storage" --log-level=info
  start_launcher "source-controller-$c"
  write_launcher "kustomize-controller-$c" KUBECONFIG="$kcfg" RUNTIME_NAMESPACE=flux-system \
    "$FLUX_DIR/kustomize-controller" --watch-all-namespaces=true --enable-leader-election=false \
    --metrics-addr="127.0.0.1:$(flux_port "$c" kustomize-metrics)" \
    --health-addr="127.0.0.1:$(flux_port "$c" kustomize-health)" \
    --no-remote-bases=true --log-level=info
  start_launcher "kustomize-controller-$c"
}

flux_env() {
  local c
  flux_enabled || return 0
  echo "export SHIPDECK_TESTENV_GIT_URL=http://127.0.0.1:$GITSERVER_PORT"
  echo "export SHIPDECK_TESTENV_GIT_ROOT=$GIT_ROOT"
  if [[ -f $FLUX_CLI_DIR/.complete ]]; then
    echo "export SHIPDECK_TESTENV_FLUX_CLI=$FLUX_CLI_DIR/flux"
  fi
}
