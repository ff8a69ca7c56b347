# The ccoin node image: `docker build -t ccoin:devnet .`; every command is `ccoin ...`
# (docker-compose.yml runs `ccoin devnet init` once, anvil as the devnet's BSC, then
# `ccoin devnet deploy-bsc`, `ccoin node start` per node and `ccoin relay`).
#
# Only an amd64 (x86_64) build works: the final stage copies the linux-amd64 anvil binary,
# the only platform package package-lock.json holds.

# The base images are build arguments: the defaults are the official ones; scripts/compose-test
# builds stand-ins from Debian packages where no image registry is reachable (ADR 0024).
ARG NODE_IMAGE=node:20-slim
ARG PYTHON_IMAGE=python:3.11-slim

# Stage 1: anvil, a local EVM node, from the npm package @foundry-rs/anvil at the versions
# package-lock.json pins, installed as scripts/setup-npm does: `npm ci`, and when that fails
# (a lock holding only this platform's binary package) an install that keeps the locked
# versions without rewriting the lock. solc comes along but stays in this stage.
# The binary is the platform package's (@foundry-rs/anvil-linux-amd64), or, where npm skips
# that package (it wants Node >= 20: an older npm leaves it out without failing), the one
# anvil's own postinstall fetched at the same version into the anvil package; with neither,
# the build stops here and says so.
FROM ${NODE_IMAGE} AS npm
WORKDIR /npm
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
    || npm install --no-save --no-audit --no-fund --loglevel=error
RUN for bin in node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil \
               node_modules/@foundry-rs/anvil/anvil; do \
        if [ -x "$bin" ]; then cp "$bin" /npm/anvil && break; fi; \
    done; \
    if [ ! -x /npm/anvil ]; then \
        echo "Dockerfile: npm installed no anvil binary (neither the platform package" \
             "@foundry-rs/anvil-linux-amd64 nor the postinstall's download); the npm image" \
             "needs Node.js >= 20 and the npm registry" >&2; \
        exit 1; \
    fi; \
    /npm/anvil --version

FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libseccomp: the contract sandbox's filter (pyseccomp loads it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libseccomp2 \
    && rm -rf /var/lib/apt/lists/*

# anvil on PATH, where ccoin.bench.anvil.find_anvil looks when there is no node_modules.
COPY --from=npm /npm/anvil /usr/local/bin/anvil
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
