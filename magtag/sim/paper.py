"""Render displayio groups to a 4-gray PIL image like the MagTag's e-paper."""

import time

from busdisplay import BusDisplay
import displayio
from PIL import Image

WIDTH = 296
HEIGHT = 128
SECONDS_PER_FRAME = 5.0
GRAY_LEVELS = (0, 85, 170, 255)


class PaperDisplay(BusDisplay):
    """Stand in for board.DISPLAY: no bus, same refresh limit, pixels to PIL."""

    # Blinka's background thread may poll before __init__ finishes.
    _auto_refresh = False

    def __new__(cls) -> "PaperDisplay":
        """Release the previous wake's display before Blinka registers this one."""
        displayio.release_displays()
        return super().__new__(cls)

    def __init__(self) -> None:
        """Create a 296x128 display with the panel's minimum refresh interval."""
        super().__init__(None, b"", width=WIDTH, height=HEIGHT, auto_refresh=False)
        self.image: Image.Image | None = None
        self.refreshes = 0
        self._last_refresh: float | None = None

    @property
    def time_to_refresh(self) -> float:
        """Return seconds until the panel accepts another refresh."""
        if self._last_refresh is None:
            return 0.0
        return max(0.0, self._last_refresh + SECONDS_PER_FRAME - time.monotonic())

    @property
    def busy(self) -> bool:
        """Return False: the simulated panel finishes at once."""
        return False

    def _refresh_area(self, area: object) -> bool:
        """Skip the bus: pixels are read back in snapshot()."""
        return True

    def refresh(self, **_kwargs: object) -> bool:
        """Refresh like EPaperDisplay: refuse when too soon, then snapshot."""
        if self.time_to_refresh > 0:
            raise RuntimeError("Refresh too soon")
        super().refresh()
        self.image = self.snapshot()
        self.refreshes += 1
        self._last_refresh = time.monotonic()
        return True

    def snapshot(self) -> Image.Image:
        """Return the current frame quantised to the panel's four grays."""
        image = Image.new("L", (WIDTH, HEIGHT), 255)
        pixels = image.load()
        for y in range(HEIGHT):
            row = bytes(self.fill_row(y, bytearray(0)))
            for x in range(WIDTH):
                value = int.from_bytes(row[2 * x : 2 * x + 2], "little")
                red = (value >> 11) & 0x1F
                green = (value >> 5) & 0x3F
                blue = value & 0x1F
                luma = (
                    red * 255 // 31 * 30
                    + green * 255 // 63 * 59
                    + blue * 255 // 31 * 11
                ) // 100
                pixels[x, y] = min(GRAY_LEVELS, key=lambda level: abs(level - luma))
        return image

    def release(self) -> None:
        """Free the display slot for the next wake."""
        displayio.release_displays()
