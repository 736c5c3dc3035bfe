# The uv guide's pattern (written after astral's "Using uv in Docker", adapted to a
# requirements.txt project): uv from pip in the build stage, its cache on a cache mount, the
# dependencies in a layer of their own keyed on the requirements, bytecode compiled, the app
# installed without its dependencies, and the virtual environment copied into the slim stage.
FROM python:3.11 AS compile
ARG SYSTEM=""
RUN --mount=type=cache,id=bench-apt-c,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=bench-lists-c,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean; \
    if [ -n "$SYSTEM" ]; then apt-get update && apt-get install -y --no-install-recommends $SYSTEM; fi
RUN --mount=type=cache,id=bench-pip,target=/root/.cache/pip pip install uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN uv venv /venv
ENV VIRTUAL_ENV=/venv PATH=/venv/bin:$PATH
RUN --mount=type=cache,id=bench-uv,target=/root/.cache/uv \
    --mount=type=bind,source=requirements.txt,target=requirements.txt \
    uv pip install -r requirements.txt
COPY . /src
RUN --mount=type=cache,id=bench-uv,target=/root/.cache/uv \
    uv pip install --no-deps /src

FROM python:3.11-slim
ARG RUNTIME=""
RUN --mount=type=cache,id=bench-apt-s,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=bench-lists-s,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean; \
    if [ -n "$RUNTIME" ]; then apt-get update && apt-get install -y --no-install-recommends $RUNTIME; fi
COPY --from=compile /venv /venv
ENV PATH=/venv/bin:$PATH
CMD ["python", "-m", "benchapp"]
