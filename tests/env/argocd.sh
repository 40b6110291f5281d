# shellcheck shell=bash
# Argo CD for the end-to-end environment: the application-controller and repo-server (one Go
# binary, run under both names), a Redis per cluster, and a plain-directory Application served
# from a local git repository. Sourced by tests/env/{build,up,down} (one-line hooks each).
#
# Argo CD v3.6.1 needs go >= 1.27: the build takes go1.27.3 from the Go module proxy.
ARGOCD_VERSION=v3.6.1
ARGOCD_GOTOOLCHAIN=go1.27.3
ARGOCD_DIR=$TESTBIN/argocd-$ARGOCD_VERSION

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
  # Argo CD's cmd/main.go links every component (CLI, API server, Dex, UI assets...). The test
  # environment runs two of them, so a small main in the copy dispatches the same way
  # (ARGOCD_BINARY_NAME, else argv[0]) to just those two, and to git-ask-pass, which the
  # repo-server runs as a git credential helper. One binary, run under both names.
  mkdir -p "$src/cmd/shipdeck-argocd"
  cat >"$src/cmd/shipdeck-argocd/main.go" <<'GO'
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
)

func main() {
	grpc.DisableSRVLookups()
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
	default:
		fmt.Fprintf(os.Stderr, "unknown binary name %q: run as %s or %s\n", name, common.CommandApplicationController, common.CommandRepoServer)
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
  mkdir -p "$out/crds"
  cp "$mdir"/manifests/crds/application-crd.yaml "$mdir"/manifests/crds/appproject-crd.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
  # The one Redis each cluster's controller caches into: Debian's, never its packaged daemon.
  if ! command -v redis-server >/dev/null; then
    local policy=/usr/sbin/policy-rc.d had_policy=0
    [[ -e $policy ]] && had_policy=1
    [[ $had_policy -eq 0 ]] && printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }
    [[ $had_policy -eq 0 ]] && rm -f "$policy"
    if [[ -x /etc/init.d/redis-server ]]; then /etc/init.d/redis-server stop >/dev/null 2>&1 || true; fi
  fi
  command -v git >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git >/dev/null
}
