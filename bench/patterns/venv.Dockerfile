# Articles 000 (solution 2) and 002: a virtualenv built in a compile stage, copied whole.
FROM python:3.11 AS build
ARG SYSTEM=""
RUN if [ -n "$SYSTEM" ]; then apt-get update && apt-get install -y --no-install-recommends $SYSTEM; fi
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . /src
RUN pip install --no-deps /src

FROM python:3.11-slim
ARG RUNTIME=""
RUN if [ -n "$RUNTIME" ]; then apt-get update && apt-get install -y --no-install-recommends $RUNTIME && rm -rf /var/lib/apt/lists/*; fi
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
CMD ["python", "-m", "benchapp"]
