# The kustodian image: `docker build -t ghcr.io/kustodian/kustodian:0.1.0 .`
# Build stage: the Debian 12 packages the Makefile's DEB_PACKAGES lists for the build; only the
# kustodian target is built. Runtime stage: debian:bookworm-slim with just the shared libraries
# the binary links (tests/deploy checks them against `ldd` of a built binary), CA certificates
# for ARM and Entra ID, and a non-root user (65532, as manifests/ and the chart run it).

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config libcpp-httplib-dev libssl-dev libyaml-cpp-dev \
      nlohmann-json3-dev libabsl-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target kustodian -j"$(nproc)" \
 && strip /build/kustodian

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcpp-httplib0.11 libbrotli1 libssl3 libyaml-cpp0.7 libabsl20220623 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 kustodian \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin kustodian
COPY --from=build /build/kustodian /usr/local/bin/kustodian
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kustodian"]
CMD ["run", "--source=kubernetes", "--leader-elect", "--metrics-bind-address=:8080"]
