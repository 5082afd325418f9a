"""The tests' reader of the README's generated blocks (what `excolor.docs.replace_block` writes)."""

from __future__ import annotations

import re


def read_block(text: str, name: str) -> str:
    """The body of the README block `name`, between `<!-- excolor.docs:name -->` and its closing tag."""
    match = re.search(
        rf"<!-- excolor\.docs:{re.escape(name)} -->\n(.*?)<!-- /excolor\.docs:{re.escape(name)} -->",
        text,
        re.S,
    )
    assert match is not None, f"no block {name}"
    return match.group(1).removesuffix("\n")
