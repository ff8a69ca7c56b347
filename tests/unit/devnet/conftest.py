"""The `fake_nodes` fixture: fake node processes, killed after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.devnet.helpers import FakeNodes


@pytest.fixture
def fake_nodes() -> Iterator[FakeNodes]:
    fakes = FakeNodes()
    try:
        yield fakes
    finally:
        fakes.close()
