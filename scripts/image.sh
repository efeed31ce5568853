#!/usr/bin/env bash
# Builds fedid's image on a machine that reaches no image registry, from
# Debian packages: mmdebstrap makes a bookworm base (with the machine's own
# CA bundle, for machines whose package and module mirrors need it), the
# host's Go toolchain is copied into a build base, then the project's
# Dockerfile is built on those two with podman. Then, where the OCI runtime
# cannot start containers (a sandbox without cgroup or rlimit rights), it
# checks the image's entrypoint in a chroot of its file system, as its user:
# refused without a key on 0.0.0.0, serving with FEDID_DEV=1, /healthz, the
# store in /data.
#
# Needs: podman, mmdebstrap (Debian packages), Go at /usr/local/go, root.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WORK:-/tmp/fedid-image}
mkdir -p "$W/base" "$W/go"
if ! podman image exists localhost/fedid-debian:bookworm; then
  mmdebstrap --variant=minbase --include=ca-certificates,curl,libssl3,gcc,libc6-dev,git bookworm "$W/base.tar"
  podman import "$W/base.tar" localhost/fedid-debian:bookworm-plain
  cp /etc/ssl/certs/ca-certificates.crt "$W/base/"
  printf 'FROM localhost/fedid-debian:bookworm-plain\nCOPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\n' > "$W/base/Containerfile"
  podman build -q --isolation=chroot -t localhost/fedid-debian:bookworm "$W/base"
fi
if ! podman image exists localhost/fedid-build:local; then
  rm -rf "$W/go/go" && cp -a /usr/local/go "$W/go/go"
  printf 'FROM localhost/fedid-debian:bookworm\nCOPY go /usr/local/go\nENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOTOOLCHAIN=local\n' > "$W/go/Containerfile"
  podman build -q --isolation=chroot -t localhost/fedid-build:local "$W/go"
fi
# --format docker keeps HEALTHCHECK (the OCI image format has no field for it).
podman build --format docker --isolation=chroot -t localhost/fedid:dev \
  --build-arg BUILD_IMAGE=localhost/fedid-build:local --build-arg RUNTIME_IMAGE=localhost/fedid-debian:bookworm \
  --build-arg VERSION="$(git describe --tags --always --dirty 2>/dev/null || echo dev)" --build-arg COMMIT="$(git rev-parse HEAD)" .
podman image inspect localhost/fedid:dev --format 'user={{.Config.User}} env={{.Config.Env}} entrypoint={{.Config.Entrypoint}} volumes={{.Config.Volumes}} healthcheck={{.Config.Healthcheck}}'

# The entrypoint, in a chroot of the image as its user.
R="$W/rootfs"
rm -rf "$R" && mkdir -p "$R"
cid=$(podman create localhost/fedid:dev)
podman export "$cid" | tar -x -C "$R"
podman rm "$cid" >/dev/null
uid=$(awk -F: '$1=="fedid"{print $3":"$4}' "$R/etc/passwd")
mount -t proc proc "$R/proc"; mount --bind /dev "$R/dev"
trap 'pkill -f "fedid serve" || true; umount "$R/proc" "$R/dev" 2>/dev/null || true' EXIT
run() { chroot --userspec="$uid" "$R" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/data FEDID_DB=/data/fedid.db "$@"; }
out=$(run FEDID_ADDR=0.0.0.0:9672 /usr/local/bin/fedid serve 2>&1 || true)
if grep -q "refusing to listen" <<<"$out"; then
  echo "image: without a key on 0.0.0.0 fedid refuses to start: ok"
else
  echo "image: fedid started on 0.0.0.0 without a key"; exit 1
fi
run FEDID_ADDR=0.0.0.0:9672 FEDID_DEV=1 /usr/local/bin/fedid serve > "$W/serve.log" 2>&1 &
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:9672/healthz >/dev/null && break; sleep 0.1; done
curl -fsS http://127.0.0.1:9672/healthz
ls -ln "$R/data"
run /usr/local/bin/fedid version
echo "image: ok"
