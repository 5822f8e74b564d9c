# certdesk container image.
#
#   docker build -t certdesk --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 8080:8080 -e DATABASE_URL=postgres://user:pass@host:5432/certdesk certdesk
#
# DATABASE_URL must be set: the image holds no PostgreSQL, so without it
# every command stops at start-up with "DATABASE_URL is not set, and the
# embedded PostgreSQL ... cannot run" (exit status 2). To try certdesk out
# with its own PostgreSQL, use deploy/compose.yaml. See docs/operations.md.
#
# No HEALTHCHECK: the same image runs serve, worker and migrate, and only
# serve answers HTTP. Orchestrators check serve with `certdesk healthcheck`
# (no shell or curl needed) or HTTP probes on /healthz and /readyz.

# ---- build ----
FROM golang:1.26-bookworm AS build
ARG VERSION=dev
WORKDIR /src

# Modules first, so that this layer is cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/certdesk/certdesk/internal/app.Version=${VERSION}" \
      -o /out/certdesk ./cmd/certdesk
# The state folder, owned by nonroot in the image: a new volume mounted on
# it (or on its blobs folder) takes that owner.
RUN mkdir -p /out/state/blobs

# ---- run ----
# Static, non-root, no shell. Migrations, the OpenAPI document and the web
# files are embedded in the binary.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/certdesk /certdesk
COPY --from=build --chown=65532:65532 /out/state /var/lib/certdesk
ENV CERTDESK_ADDR=0.0.0.0:8080 \
    CERTDESK_DATA_DIR=/var/lib/certdesk
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/certdesk"]
CMD ["serve"]
