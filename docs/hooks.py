"""MkDocs hook: make the build's helper module, ``docs/docgen.py``, importable by the pages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def on_config(config: Any) -> Any:
    """Put ``docs/`` on ``sys.path`` before any page's exec block runs."""
    docs = str(Path(__file__).resolve().parent)
    if docs not in sys.path:
        sys.path.insert(0, docs)
    return config
