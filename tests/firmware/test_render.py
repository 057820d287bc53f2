"""The rendered screen shows the expected text, checked glyph by glyph."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
import pytest

from magtag.porter import screen, selfcheck, view
from magtag.sim.hardware import FONT_PATH
from magtag.sim.paper import PaperDisplay

from .conftest import load_example

SWEDISH = load_example("valid", "display_swedish")["payload"]


def parse_bdf(path: str) -> dict[str, tuple[int, int, int, int, list[int]]]:
    """Return char -> (width, height, xoff, yoff, rows) straight from the BDF."""
    glyphs = {}
    lines = Path(path).read_text(encoding="ascii").splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("ENCODING"):
            char = chr(int(lines[index].split()[1]))
            bbx = next(line for line in lines[index:] if line.startswith("BBX"))
            width, height, xoff, yoff = (int(v) for v in bbx.split()[1:])
            start = lines.index("BITMAP", index) + 1
            rows = [int(row, 16) for row in lines[start : start + height]]
            glyphs[char] = (width, height, xoff, yoff, rows)
        index += 1
    return glyphs


def reference(text: str) -> Image.Image:
    """Draw text with the BDF glyphs directly (no displayio), baseline at 13."""
    glyphs = parse_bdf(FONT_PATH)
    advance, line_h = screen.font_metrics(FONT_PATH)
    image = Image.new("L", (advance * len(text) + 8, line_h), 255)
    for position, char in enumerate(text):
        width, height, xoff, yoff, rows = glyphs[char]
        padded = (width + 7) // 8 * 8
        for row_index, row in enumerate(rows):
            y = 13 - yoff - height + row_index
            for column in range(width):
                if row >> (padded - 1 - column) & 1:
                    image.putpixel((position * advance + xoff + column, y), 0)
    return image


def found(shot: Image.Image, text: str, x0: int, y0: int) -> bool:
    """Return True when text's ink appears exactly near (x0, y0) in the shot."""
    ref = reference(text)
    ink = [
        (x, y)
        for x in range(ref.width)
        for y in range(ref.height)
        if ref.getpixel((x, y)) == 0
    ]
    for dy in range(-4, 5):
        for dx in range(-2, 3):
            hits = sum(
                1
                for x, y in ink
                if 0 <= x0 + dx + x < shot.width
                and 0 <= y0 + dy + y < shot.height
                and shot.getpixel((x0 + dx + x, y0 + dy + y)) == 0
            )
            if ink and hits == len(ink):
                # Also no extra ink inside the text's box.
                extra = sum(
                    1
                    for x in range(ref.width)
                    for y in range(ref.height)
                    if 0 <= x0 + dx + x < shot.width
                    and 0 <= y0 + dy + y < shot.height
                    and shot.getpixel((x0 + dx + x, y0 + dy + y)) == 0
                    and ref.getpixel((x, y)) != 0
                )
                if extra == 0:
                    return True
    return False


@pytest.fixture
def shot() -> Image.Image:
    display = PaperDisplay()
    lines, chars = screen.budget(FONT_PATH)
    content = view.compose(
        SWEDISH,
        1,
        [],
        now=SWEDISH["time"],
        clock_ok=True,
        battery_v=3.87,
        max_lines=lines,
        max_chars=chars,
    )
    screen.show(display, FONT_PATH, content)
    image = display.image
    display.release()
    assert image is not None
    return image


def test_forecast_lines_with_swedish_letters_are_drawn(shot) -> None:
    positions = screen.line_positions(FONT_PATH, 3)
    for text, y in zip(SWEDISH["lines"], positions, strict=True):
        assert found(shot, text, screen.MARGIN_X, y), text


def test_a_wrong_letter_is_not_mistaken_for_the_right_one(shot) -> None:
    y = screen.line_positions(FONT_PATH, 1)[0]
    assert not found(shot, "Uppehall till kl 18.", screen.MARGIN_X, y)


def test_status_line_shows_count_update_time_and_battery(shot) -> None:
    assert found(shot, "Door 0 today (0)", screen.MARGIN_X, 0)
    right = "16:00 3.87V"  # time 1764770415 is 15:00 UTC... plus 3600 s offset
    advance, _h = screen.font_metrics(FONT_PATH)
    x = screen.WIDTH - screen.MARGIN_X - advance * len(right)
    assert found(shot, right, x, 0) or found(shot, "15:00 3.87V", x, 0)


def test_screen_is_pure_black_and_white_grays_of_the_panel(shot) -> None:
    assert set(shot.getdata()) <= {0, 85, 170, 255}
    assert shot.size == (296, 128)


def test_selfcheck_passes_on_cpython() -> None:
    assert selfcheck.run() == 7


def test_rendering_is_deterministic_for_the_same_content(tmp_path) -> None:
    content = view.compose(
        SWEDISH,
        1,
        [],
        now=0,
        clock_ok=False,
        battery_v=4.0,
        max_lines=6,
        max_chars=36,
    )
    images = []
    for _ in range(2):
        display = PaperDisplay()
        screen.show(display, FONT_PATH, content)
        images.append(display.image.tobytes())
        display.release()
    assert images[0] == images[1]
    assert json.dumps(content)  # content stays plain data
