"""Tests build configs with `hydra.utils.instantiate` as the entry points do: inside the same trusted-
target whitelist (`excolor.console.trusted_targets`), so Hydra ≥ 1.4 neither warns nor refuses."""

from collections import Counter

import pytest

from excolor.console import trusted_targets


@pytest.fixture(autouse=True)
def _trusted_targets():
    with trusted_targets():
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with the most `slow` tests first, the rest after them in their own order (a stable sort:
    the order inside a file stays). With the files run in parallel (pytest-xdist `--dist loadfile
    --no-loadscope-reorder`), the long files start at once and the short ones fill in around them."""
    slow = Counter(item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.nodeid.split("::")[0]])
