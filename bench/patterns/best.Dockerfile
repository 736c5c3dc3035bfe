# The best hand-written form: cache mounts for apt and pip, dependency and app wheels built
# apart, installed in the slim stage through read-only bind mounts of the compile stage.
FROM python:3.11 AS compile
ARG SYSTEM=""
RUN --mount=type=cache,id=bench-apt-c,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=bench-lists-c,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean; \
    if [ -n "$SYSTEM" ]; then apt-get update && apt-get install -y --no-install-recommends $SYSTEM; fi
COPY requirements.txt .
RUN --mount=type=cache,id=bench-pip,target=/root/.cache/pip \
    pip wheel --wheel-dir /wheels -r requirements.txt
COPY . /src
RUN --mount=type=cache,id=bench-pip,target=/root/.cache/pip \
    pip wheel --no-deps --wheel-dir /app-wheel /src

FROM python:3.11-slim
ARG RUNTIME=""
RUN --mount=type=cache,id=bench-apt-s,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=bench-lists-s,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean; \
    if [ -n "$RUNTIME" ]; then apt-get update && apt-get install -y --no-install-recommends $RUNTIME; fi
RUN --mount=type=bind,from=compile,source=/wheels,target=/wheels \
    pip install --no-index --no-cache-dir /wheels/*.whl
RUN --mount=type=bind,from=compile,source=/app-wheel,target=/app-wheel \
    pip install --no-index --no-cache-dir --no-deps /app-wheel/*.whl
CMD ["python", "-m", "benchapp"]
