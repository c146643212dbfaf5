# One Metro Exports API host: gunicorn, sync workers. Mount the source files at /data; the SQLite store is built
# there on start (a no-op when the files are unchanged), or point EXPORTS_DATABASE_URL at PostgreSQL.
#   docker build -t metro-exports .
#   docker run -p 8000:8000 -v "$PWD/../shared/data:/data:ro" metro-exports
# Sync workers must not face the internet directly (a few slow clients hold them all): in production this
# image runs behind the nginx edge, two or more of it, as compose.yaml shows (README: Production topology).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    EXPORTS_DATA_DIR=/data EXPORTS_DATABASE_URL=sqlite:////var/lib/metro-exports/exports.sqlite \
    BIND=0.0.0.0:8000

WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY api ./api
COPY models ./models
COPY schemas ./schemas
COPY loaders ./loaders
COPY wsgi.py gunicorn.conf.py openapi.yaml ./
RUN pip install --no-cache-dir -c constraints.txt . \
 && useradd --system --uid 10001 --home /var/lib/metro-exports --create-home api

USER api
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
CMD ["sh", "-c", "flask --app wsgi data build && exec gunicorn wsgi:app"]
