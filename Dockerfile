# One image for all five services: `python -m services.<name>` picks the service.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml .
RUN python - <<'PY' > /tmp/req.txt && pip install --no-cache-dir -r /tmp/req.txt
import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"]))
PY
COPY shared ./shared
COPY services ./services
ENV PYTHONPATH=/app
USER nobody
