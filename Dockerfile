# The ccoin node image: `docker build -t ccoin:devnet .`; every command is `ccoin ...`
# (docker-compose.yml runs `ccoin devnet init` once, then `ccoin node start` per node).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libseccomp: the contract sandbox's filter (pyseccomp loads it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libseccomp2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN pip install . \
    && useradd --system --uid 10001 --create-home ccoin \
    && mkdir /devnet \
    && chown ccoin:ccoin /devnet

# A named volume mounted at /devnet starts with this directory's owner, so the unprivileged
# user can write the devnet into it.
USER ccoin
WORKDIR /devnet

ENTRYPOINT ["ccoin"]
CMD ["--help"]
