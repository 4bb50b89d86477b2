"""Text that goes into the report's HTML: every user-given string is escaped here."""

from __future__ import annotations

import html
from typing import Any


def esc(x: Any) -> str:
    """HTML-escaped text of any value (None reads as empty)."""
    return html.escape("" if x is None else str(x), quote=True)
