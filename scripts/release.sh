#!/usr/bin/env bash
# Builds fedid's release binaries into dist/: linux/amd64 and linux/arm64
# with cgo (fedid signs through libcrypto, loaded at run time), the other
# platforms without cgo (they sign with Go's crypto/rsa). Each binary is
# stamped with the version and commit (`fedid version` prints them) and a
# SHA256SUMS file lists them.
#
#   scripts/release.sh            # version from `git describe`
#   VERSION=v1.2.0 scripts/release.sh
#
# linux/arm64 with cgo needs a cross compiler (Debian: gcc-aarch64-linux-gnu);
# without one it is built without cgo, and the script says so.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
OUT=${OUT:-dist}
mkdir -p "$OUT"
LDFLAGS="-s -w -X main.version=$VERSION -X main.commit=$COMMIT"

build() { # build GOOS GOARCH CGO [CC]
  local os=$1 arch=$2 cgo=$3 cc=${4:-}
  local name="fedid-$VERSION-$os-$arch"
  [ "$os" = windows ] && name="$name.exe"
  echo "release: $name (cgo=$cgo)"
  CGO_ENABLED=$cgo GOOS=$os GOARCH=$arch ${cc:+CC=$cc} go build -trimpath -ldflags "$LDFLAGS" -o "$OUT/$name" ./cmd/fedid
}

build linux amd64 1
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  build linux arm64 1 aarch64-linux-gnu-gcc
else
  echo "release: no aarch64-linux-gnu-gcc: linux/arm64 is built without cgo (crypto/rsa signer)"
  build linux arm64 0
fi
build darwin amd64 0
build darwin arm64 0
build windows amd64 0
(cd "$OUT" && sha256sum fedid-"$VERSION"-* > SHA256SUMS)
echo "release: $(ls "$OUT" | wc -l) files in $OUT"
"$OUT/fedid-$VERSION-linux-amd64" version
