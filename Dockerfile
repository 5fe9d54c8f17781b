# syntax=docker/dockerfile:1
# One file, two images: `services` (all five services; `python -m services.<name>` picks one) and
# `edge` (nginx serving the dashboard and routing the API, as deploy/local/edge.sh does for `make run`).
# docker-compose.yml builds each with its target; a plain `docker build .` gives the services image.
FROM python:3.11-slim AS services
WORKDIR /app
COPY pyproject.toml .
RUN python - <<'PY' > /tmp/req.txt && pip install --no-cache-dir -r /tmp/req.txt
import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"]))
PY
COPY shared ./shared
COPY services ./services
ENV PYTHONPATH=/app
USER nobody

# the merged OpenAPI document, from the same code the services run (no database or broker needed)
FROM services AS openapi
RUN python -m shared.openapi /tmp/openapi.json

# the dashboard, typed against that document (a type error fails the image build, as it fails `make run`)
FROM node:22-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
COPY --from=openapi /tmp/openapi.json ./openapi.json
RUN npm run build

# Debian's nginx with the same template as `make run`; render.sh writes nginx.conf and /config.json
# at container start, so EDGE_OIDC_ISSUER / EDGE_OIDC_CLIENT_ID are read from the environment.
FROM debian:bookworm-slim AS edge
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/edge/nginx.conf.template deploy/edge/render.sh /etc/tessera-edge/
COPY --from=web /web/dist /srv/tessera/web
COPY --from=openapi /tmp/openapi.json /srv/tessera/generated/openapi.json
ENV EDGE_DIR=/var/lib/tessera-edge EDGE_LISTEN=8080 EDGE_USER=www-data \
    EDGE_WEB_ROOT=/srv/tessera/web EDGE_GENERATED=/srv/tessera/generated \
    EDGE_ACCESS_LOG=/dev/stdout EDGE_ERROR_LOG=stderr \
    AOI_UPSTREAM=aoi:8101 TILING_UPSTREAM=tiling:8102 PRICING_UPSTREAM=pricing:8103 \
    CART_UPSTREAM=cart:8104 CHECKOUT_UPSTREAM=checkout:8105
EXPOSE 8080
CMD ["sh", "-c", "sh /etc/tessera-edge/render.sh && exec nginx -p \"$EDGE_DIR\" -c \"$EDGE_DIR/nginx.conf\" -e stderr -g 'daemon off;'"]

# the default target stays the services image
FROM services
