#!/usr/bin/env bash
# Rebuilds the console's embedded files (internal/console/assets) from
# clients/console: npm ci (the committed package-lock.json), then esbuild.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node build.mjs
