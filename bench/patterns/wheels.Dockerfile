# Articles 001, 003, 004: pip wheel in the full image, COPY --from the wheels, install with
# --no-index, delete them (they stay in the COPY layer).
FROM python:3.11 AS compile
ARG SYSTEM=""
RUN if [ -n "$SYSTEM" ]; then apt-get update && apt-get install -y --no-install-recommends $SYSTEM; fi
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt
COPY . /src
RUN pip wheel --no-deps --wheel-dir /wheels /src

FROM python:3.11-slim
ARG RUNTIME=""
RUN if [ -n "$RUNTIME" ]; then apt-get update && apt-get install -y --no-install-recommends $RUNTIME && rm -rf /var/lib/apt/lists/*; fi
COPY --from=compile /wheels /wheels
RUN pip install --no-index --find-links /wheels /wheels/*.whl && rm -rf /wheels
CMD ["python", "-m", "benchapp"]
