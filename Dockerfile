# fedid's container image: built with cgo (fedid signs through libcrypto,
# loaded at run time), run on a slim Debian with libcrypto as a non-root
# user, the SQLite store on the /data volume.
#
#   docker build -t fedid .   (podman: podman build --format docker, which
#                               keeps the HEALTHCHECK)
#   podman run -p 9600:9600 -v fedid-data:/data -e FEDID_DEV=1 fedid
#
# BUILD_IMAGE and RUNTIME_IMAGE can name local images (for machines that
# reach no registry: scripts/image.sh makes both from Debian packages and
# checks the image).
ARG BUILD_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=1 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/fedid ./cmd/fedid

FROM ${RUNTIME_IMAGE}
# libssl3 brings libcrypto.so.3; ca-certificates lets fedid fetch providers'
# keys over HTTPS.
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin fedid \
 && mkdir -p /data && chown fedid:fedid /data
COPY --from=build /out/fedid /usr/local/bin/fedid
USER fedid
VOLUME /data
ENV FEDID_ADDR=0.0.0.0:9600 FEDID_DB=/data/fedid.db
EXPOSE 9600
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD curl -fsS http://127.0.0.1:9600/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/fedid"]
CMD ["serve"]
