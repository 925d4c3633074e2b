#!/usr/bin/env bash
# The extension against the newest BlockNote on the npm registry (the package is built and its
# bundle committed against 0.51.4, La Suite Docs' pin): a copy of editor/ with the latest
# @blocknote/* type-checks, passes its unit tests, and the playground built from it passes the
# browser tests. The committed bundle is put back afterwards, whatever happens.
# Usage: editor/scripts/check-latest-blocknote.sh [version]   (default: latest)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
VERSION="${1:-latest}"
WORK="$(mktemp -d)"
BUNDLE=suite_ai/playground/static/playground
restore() { git -C "$ROOT" checkout -- "$BUNDLE"; rm -rf "$WORK"; }
trap restore EXIT

mkdir -p "$WORK/editor" "$WORK/suite_ai/playground/static/playground"
cp -r editor/package.json editor/package-lock.json editor/src editor/playground editor/tests \
  editor/tsconfig.json editor/tsconfig.build.json editor/vite.config.ts editor/vite.playground.config.ts "$WORK/editor/"
cp README.md "$WORK/"
cd "$WORK/editor"
npm ci --no-audit --no-fund --loglevel=error
# --legacy-peer-deps: core's optional peers (@y/y 14 release candidates) do not resolve otherwise.
npm install --legacy-peer-deps --save-exact --no-audit --no-fund --loglevel=error \
  "@blocknote/core@$VERSION" "@blocknote/react@$VERSION" "@blocknote/mantine@$VERSION"
echo "== BlockNote $(node -p "require('./node_modules/@blocknote/core/package.json').version")"
npx tsc -p tsconfig.json --noEmit
npx vitest run
npx vite build --config vite.playground.config.ts --outDir "$ROOT/$BUNDLE" --emptyOutDir
cd "$ROOT"
env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL .venv/bin/python -m pytest tests/browser -q
