# shellcheck shell=bash
# Flux (source-controller, kustomize-controller) and a loopback git server for the e2e
# environment. Sourced by tests/env/build, up and down (after lib.sh); defines functions only,
# plus the versions and paths below.
FLUX_SOURCE_VERSION=v1.9.6
FLUX_KUSTOMIZE_VERSION=v1.9.6
FLUX_DIR=$TESTBIN/flux-$FLUX_SOURCE_VERSION-$FLUX_KUSTOMIZE_VERSION
GITSERVER_DIR=$TESTBIN/gitserver-1
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
  cp "$mdir"/config/crd/bases/source.toolkit.fluxcd.io_{gitrepositories,ocirepositories,externalartifacts}.yaml "$out/crds/"
  wdir=$(flux_wrapper kustomize-controller github.com/fluxcd/kustomize-controller "$FLUX_KUSTOMIZE_VERSION")
  (cd "$wdir" && go build -o "$out/kustomize-controller" -ldflags "-s -w" github.com/fluxcd/kustomize-controller)
  mdir=$(cd "$wdir" && module_dir "github.com/fluxcd/kustomize-controller@$FLUX_KUSTOMIZE_VERSION")
  cp "$mdir"/config/crd/bases/*.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
}

# The git server: Debian's git (`git http-backend`, the smart HTTP protocol go-git speaks)
# behind a few lines of Go's net/http/cgi, listening on 127.0.0.1 only. Standard library only.
build_gitserver() {
  local out=$1 wdir
  command -v git >/dev/null || {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends git >/dev/null
  }
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
