# The image runs exactly what `make services` runs — migrate, collectstatic, then Procfile.services
# under honcho (two uvicorn servers, a Celery worker, Celery beat) — through the same Makefile
# target without the install step: `make serve-services`. compose.yaml adds PostgreSQL and Redis.
# Not built in this project's CI (its machines have no container runtime): keep it this small.
FROM python:3.11-slim-bookworm

# make runs the target; Pango is WeasyPrint's (the PDF report), as on the development machines.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The Makefile's virtual environment (.venv), so Procfile.services' paths hold; torch first, pinned
# as the Makefile pins it; the runtime requirements only (no test tools).
COPY requirements.txt ./
RUN python -m venv .venv \
    && .venv/bin/pip install --no-cache-dir torch==2.13.0 \
    && .venv/bin/pip install --no-cache-dir -r requirements.txt
COPY . .

ENV PYTHONUNBUFFERED=1
EXPOSE 8000 8001
# HOST=0.0.0.0: the servers listen beyond the container. Run with `docker run --init` (compose.yaml
# sets `init: true`) so a stop's SIGTERM reaches make, which passes it on to honcho and all four.
CMD ["make", "--no-print-directory", "serve-services", "HOST=0.0.0.0"]
