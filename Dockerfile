# syntax=docker/dockerfile:1
#
# Two images from one build, picked with --target:
#   clmb           every service and the gateway; a ClmbStack's pods run `clmb <component>`
#   clmb-operator  the operator; the chart runs `clmb-operator run`
# They are separate because they differ in what they may do: the operator holds a service
# account token that can write Deployments and Secrets, the services hold database URLs.
# One image with both would hand each the other's binary for no gain.
#
#   docker build --target clmb          --build-arg VERSION=0.4.0 -t ghcr.io/example/clmb:0.4.0 .
#   docker build --target clmb-operator --build-arg VERSION=0.4.0 -t ghcr.io/example/clmb-operator:0.4.0 .
#
# VERSION only labels the image; the binaries report the workspace version from Cargo.toml,
# so release by bumping that and building with the same VERSION.

ARG RUST_VERSION=1.95
# Debian 13 on both sides, so the binaries find the glibc they were linked against.
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian13:nonroot

FROM rust:${RUST_VERSION}-trixie AS build
WORKDIR /src
COPY . .
# Every dependency is pure Rust (rustls, rust_crypto), so no system packages are needed.
# The target/ cache mount is gone after this step, hence the copy to /out in the same RUN.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --release -p clmb -p clmb-operator \
    && install -D -m 0755 -t /out target/release/clmb target/release/clmb-operator

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.vendor="clmb" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/example/clmb"
# 65532 is distroless's `nonroot`, and the user the operator's pod security settings name.
USER 65532:65532

FROM runtime AS clmb-operator
LABEL org.opencontainers.image.title="clmb-operator" \
      org.opencontainers.image.description="Runs ClmbStacks on Kubernetes."
COPY --from=build /out/clmb-operator /usr/local/bin/clmb-operator
ENTRYPOINT ["/usr/local/bin/clmb-operator"]
CMD ["run"]

# Last, so a plain `docker build .` makes this one.
FROM runtime AS clmb
LABEL org.opencontainers.image.title="clmb" \
      org.opencontainers.image.description="Every climb a climber makes: the clmb services and gateway."
COPY --from=build /out/clmb /usr/local/bin/clmb
# No ENTRYPOINT: the operator's pods set `args: [clmb, <component>]`, which must name the
# program itself. The base sets none; this states it.
ENTRYPOINT []
CMD ["clmb", "--help"]
