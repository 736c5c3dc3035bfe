# Article 000, solution 1: pip install --user in a compile stage, copy ~/.local.
FROM python:3.11 AS compile-image
ARG SYSTEM=""
RUN if [ -n "$SYSTEM" ]; then apt-get update && apt-get install -y --no-install-recommends $SYSTEM; fi
COPY requirements.txt .
RUN pip install --user -r requirements.txt
COPY . /src
RUN pip install --user --no-deps /src

FROM python:3.11-slim
ARG RUNTIME=""
RUN if [ -n "$RUNTIME" ]; then apt-get update && apt-get install -y --no-install-recommends $RUNTIME && rm -rf /var/lib/apt/lists/*; fi
COPY --from=compile-image /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
CMD ["python", "-m", "benchapp"]
