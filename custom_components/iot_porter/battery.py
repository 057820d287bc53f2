"""Battery charge estimate for the MagTag's single-cell LiPo."""

from __future__ import annotations

from itertools import pairwise
from typing import Final

# Resting voltage to charge for a typical 1S LiPo under the MagTag's light load.
_CURVE: Final = (
    (3.30, 0.0),
    (3.50, 5.0),
    (3.60, 10.0),
    (3.70, 25.0),
    (3.75, 40.0),
    (3.80, 50.0),
    (3.90, 65.0),
    (4.00, 80.0),
    (4.10, 92.0),
    (4.20, 100.0),
)


def battery_percent(voltage: float) -> int:
    """Return the estimated charge in percent for a battery voltage."""
    if voltage <= _CURVE[0][0]:
        return 0
    for (v_low, p_low), (v_high, p_high) in pairwise(_CURVE):
        if voltage <= v_high:
            share = (voltage - v_low) / (v_high - v_low)
            return round(p_low + share * (p_high - p_low))
    return 100
