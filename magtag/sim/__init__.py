"""Run the MagTag firmware on a PC with simulated hardware against a real broker."""

from .board import SimulatedBoard

__all__ = ["SimulatedBoard"]
