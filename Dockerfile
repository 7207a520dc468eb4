# The pricewatch worker image (docker-compose.yml builds it as pricewatch-worker).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# README.md* : the glob lets the build go on where the checkout has no README yet.
COPY pyproject.toml README.md* ./
COPY rules ./rules
COPY models ./models
COPY stream ./stream
RUN pip install . \
 && useradd --system --home-dir /var/lib/pricewatch --create-home pricewatch

USER pricewatch
WORKDIR /var/lib/pricewatch
ENV PW_DATA_DIR=/var/lib/pricewatch

EXPOSE 6066
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:6066/metrics', timeout=3)"]

CMD ["pricewatch", "worker"]
