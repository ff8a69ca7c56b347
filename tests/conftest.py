"""Collection rules for the whole suite."""

from __future__ import annotations

import os

# tests/compose checks a running `docker compose` devnet from the host; scripts/compose-test
# starts one and runs it (with CCOIN_COMPOSE_DEVNET=1), the ordinary suite does not.
collect_ignore = [] if os.environ.get("CCOIN_COMPOSE_DEVNET") == "1" else ["compose"]
