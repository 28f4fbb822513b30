# Builds the `vitrine` binary with the browser app inside it, and a small runtime image.
#
# Three stages: `web` builds web/ into web/dist with npm, `build` compiles the binary,
# which embeds web/dist at compile time (gateway/src/routes/web.rs), and the last stage
# holds only the binary. .dockerignore keeps local web/node_modules and web/dist out of
# the context, so the app in the image is always built from the checked-in sources.

# Vite 8 needs Node ^20.19 or >=22.12; the slim Debian image matches the glibc build of
# its native bindings in package-lock.json.
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
# The lock file first, so the installed packages stay cached while only sources change.
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
# The same build as scripts/build-web: type check, the app, then the embed snippet.
RUN npm run build \
    && test -f dist/index.html \
    && test -f dist/embed.js

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# In place before cargo runs: a release binary compiled without web/dist answers 503 on
# every app page and keeps doing so.
COPY --from=web /src/web/dist web/dist
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
