# The grading worker: one arq process per container; scale with `docker compose up --scale worker=N`.
FROM python:3.11-slim
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 PYTHONUNBUFFERED=1
# ffmpeg decodes recordings (webm/opus, ogg, mp3, m4a, wav) for the offline recogniser.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv
WORKDIR /app
COPY workers/grader-py/pyproject.toml workers/grader-py/uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY workers/grader-py/src src
RUN uv sync --frozen --no-dev
RUN useradd --system grader && mkdir -p /data/audio && chown grader /data/audio
USER grader
CMD ["uv", "run", "--frozen", "--no-dev", "python", "-m", "grader"]
