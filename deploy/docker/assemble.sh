#!/bin/sh
# Assembles one framecast service's production tree, the way the image holds it:
#
#   sh deploy/docker/assemble.sh <package dir> <source root> <destination>
#   e.g. sh deploy/docker/assemble.sh services/gateway /src /app
#
# The Dockerfile runs it, and deploy/test/image-start.test.ts runs the very same script into a
# temporary directory and starts each service from there with plain `node`, so what the test
# checks is what the image contains.
#
# Why not `pnpm deploy --prod`: Node runs the services' TypeScript itself (type stripping) but
# refuses to do so for any file whose real path is under node_modules, and `pnpm deploy` copies the
# workspace packages into node_modules. So the workspace layout is kept: the root manifests, the
# shared packages and the one service, then `pnpm install --prod` filtered to that service and
# what it depends on. No test files, no dev dependencies, no other service.
#
# PNPM_INSTALL_FLAGS adds flags to the install (the test passes --offline: the dev install's store
# already holds every package).
set -eu

pkg_dir=${1:?usage: assemble.sh <package dir> <source root> <destination>}
src=${2:?source root}
dest=${3:?destination}

name=$(node -p "JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')).name" "$src/$pkg_dir/package.json")
mkdir -p "$dest"

# The root manifests (with .pnpmfile.cjs, the install hook the lockfile was made with), the shared
# packages except the test fixtures, and the service itself; tests and local installs stay out.
# (pnpm's "<pkg>..." selector also walks devDependencies such as @framecast/testing, but with --prod
# it installs nothing from a project that is not there.)
shared=$(cd "$src" && for d in packages/*/; do [ "$d" = packages/testing/ ] || printf '%s ' "${d%/}"; done)
# shellcheck disable=SC2086 # $shared is a list of directory names without spaces
(cd "$src" && tar -cf - \
  --exclude=node_modules --exclude='*.test.ts' --exclude='./packages/*/test' --exclude="./$pkg_dir/test" \
  ./package.json ./pnpm-lock.yaml ./pnpm-workspace.yaml ./.pnpmfile.cjs $(printf './%s ' $shared) "./$pkg_dir") | tar -C "$dest" -xf -

cd "$dest"
# shellcheck disable=SC2086 # PNPM_INSTALL_FLAGS is a list of flags
CI=true pnpm install --prod --frozen-lockfile --filter "$name..." ${PNPM_INSTALL_FLAGS:-}
