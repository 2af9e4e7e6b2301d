# syntax=docker/dockerfile:1
#
# feedmill in a container: a static binary on an empty base image, run as
# an unprivileged user, keeping its config and store in the /data volume.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t feedmill .
#   docker run -d --name feedmill -p 8080:8080 -v feedmill-data:/data feedmill
#
# (`make docker` does the build.) A fresh named volume starts with the
# example config of deploy/feeds.docker.yaml; edit /data/feeds.yaml in the
# volume, or mount a host directory holding your own feeds.yaml at /data
# (it must be writable by uid 65532: the store and its WAL files go there).

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a change of the code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# timetzdata embeds the time zone database: the final image has no
# /usr/share/zoneinfo for CRON_TZ= schedules to load.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags timetzdata \
      -ldflags "-s -w -X github.com/feedmill/feedmill/internal/app.version=${VERSION}" \
      -o /out/usr/local/bin/feedmill ./cmd/feedmill
# The final image's file system: CA certificates for https feeds and a
# /tmp (the time zone database is in the binary); /data is seeded with
# an example config.
RUN mkdir -p /out/etc/ssl/certs /out/tmp /data \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && chmod 1777 /out/tmp \
 && cp deploy/feeds.docker.yaml /data/feeds.yaml \
 && chmod 0700 /data && chmod 0644 /data/feeds.yaml

FROM scratch
COPY --from=build /out/ /
# The user that runs owns /data: the store, its WAL files and the
# temporary file of `feedmill add` and `import` are written there.
COPY --from=build --chown=65532:65532 /data /data
USER 65532:65532
WORKDIR /data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/feedmill"]
CMD ["serve", "-config", "/data/feeds.yaml", "-listen", "0.0.0.0:8080"]
