"""mkdocs hook: drop the test tags from code fences before Markdown sees them.

`tests/test_readme.py` reads tags after a fence's language (```sh no-exec, ```yaml config). GitHub
ignores them; pymdownx.superfences does not take a bare word there and would print the block as
text, so the site gets the fence without them."""

from __future__ import annotations

import re
from typing import Any

FENCE_TAGS = re.compile(r"^(?P<fence> *(?:`{3,}|~{3,})[\w+-]+)(?: +[a-z][\w-]*)+[ \t]*$", re.M)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return FENCE_TAGS.sub(r"\g<fence>", markdown)
