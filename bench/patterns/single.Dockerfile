# Single stage on the full image: compilers, headers and pip's cache all ship.
FROM python:3.11
ARG SYSTEM=""
RUN if [ -n "$SYSTEM" ]; then apt-get update && apt-get install -y --no-install-recommends $SYSTEM; fi
WORKDIR /src
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN pip install --no-deps .
CMD ["python", "-m", "benchapp"]
