# The ccoin node image: `docker build -t ccoin:devnet .`; every command is `ccoin ...`
# (docker-compose.yml runs `ccoin devnet init` once, anvil as the devnet's BSC, then
# `ccoin devnet deploy-bsc`, `ccoin node start` per node and `ccoin relay`).
#
# Only an amd64 (x86_64) build works: the final stage copies the linux-amd64 anvil binary,
# the only platform package package-lock.json holds.

# Stage 1: anvil, a local EVM node, from the npm package @foundry-rs/anvil at the versions
# package-lock.json pins, installed as scripts/setup-npm does: `npm ci`, and when that fails
# (a lock holding only this platform's binary package) an install that keeps the locked
# versions without rewriting the lock. solc comes along but stays in this stage.
FROM node:20-slim AS npm
WORKDIR /npm
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
    || npm install --no-save --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libseccomp: the contract sandbox's filter (pyseccomp loads it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libseccomp2 \
    && rm -rf /var/lib/apt/lists/*

# anvil on PATH, where ccoin.bench.anvil.find_anvil looks when there is no node_modules.
COPY --from=npm /npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil /usr/local/bin/anvil
RUN anvil --version

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
