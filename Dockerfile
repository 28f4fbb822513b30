# Builds the `vitrine` binary and a small runtime image for it.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin vitrine

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/vitrine /usr/local/bin/vitrine
RUN useradd --system --home /var/lib/vitrine vitrine \
    && mkdir -p /var/lib/vitrine && chown vitrine /var/lib/vitrine
USER vitrine
ENV VITRINE_LISTEN=0.0.0.0:8080 VITRINE_DATA_DIR=/var/lib/vitrine
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vitrine"]
