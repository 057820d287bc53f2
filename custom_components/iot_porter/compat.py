"""Names that differ between the Home Assistant releases this integration supports.

Home Assistant 2025.4 validates with voluptuous; newer releases moved to probatio,
which keeps voluptuous's API. Import the schema library from here so each release
gets the one its own helpers use.
"""

from __future__ import annotations

try:
    import probatio as vol
except ImportError:  # Home Assistant before the move to probatio
    import voluptuous as vol  # type: ignore[no-redef,unused-ignore]

__all__ = ["vol"]
