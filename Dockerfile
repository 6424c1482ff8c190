# Vigie's production image: the `vigie` command with its runtime dependencies, run as non-root.
# Build: docker build -t vigie .      Run: docker run --env-file vigie.env vigie   (= vigie serve)
# The devstack's servers (Prometheus, Alertmanager, noida-db) are not part of this image.

FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY tools ./tools
COPY devstack ./devstack
COPY prompts ./prompts
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN groupadd --system vigie && useradd --system --gid vigie --home-dir /app vigie
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels vigie && rm -rf /wheels
COPY --chown=vigie:vigie config ./config
USER vigie
# Settings come from /app/config/vigie.yaml and VIGIE_* variables (see README).
ENTRYPOINT ["vigie"]
CMD ["serve"]
