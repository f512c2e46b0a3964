"""planner: make database schema changes safe to ship."""

from __future__ import annotations

__version__ = "0.1.0"
