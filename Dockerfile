# The explorer in a container: Debian slim, Debian's chromium for PNG/SVG/GIF export, a non-root
# user, Streamlit's production settings, and a health check on /_stcore/health.
#
#   docker build -t optcore-explorer .
#   docker run --rm -p 8501:8501 optcore-explorer          # http://localhost:8501
#
# One container is one Streamlit process (one CPU core at most); for a class, run several behind
# nginx with session affinity: deploy/compose.yaml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BROWSER_PATH=/usr/bin/chromium

RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Only what the wheel is built from (see .dockerignore and pyproject.toml).
WORKDIR /src
COPY pyproject.toml README.md app.py ./
COPY .streamlit/config.toml .streamlit/config.toml
COPY optcore/ optcore/
COPY ui/ ui/
RUN pip install ".[app]" && cd / && rm -rf /src

RUN useradd --create-home --uid 10001 explorer
# Production settings as the user's Streamlit config; the app's own settings ship beside app.py.
COPY --chown=explorer:explorer deploy/streamlit/config.toml /home/explorer/.streamlit/config.toml
USER explorer
WORKDIR /home/explorer

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["optcore", "app", "--server.port", "8501", "--server.address", "0.0.0.0"]
