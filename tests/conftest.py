"""Tests build configs with `hydra.utils.instantiate` as the entry points do: inside the same trusted-
target whitelist (`excolor.console.trusted_targets`), so Hydra ≥ 1.4 neither warns nor refuses."""

import pytest

from excolor.console import trusted_targets


@pytest.fixture(autouse=True)
def _trusted_targets():
    with trusted_targets():
        yield
