"""Lay out the 296x128 e-paper screen with displayio and the shipped bitmap font.

The same code draws on the MagTag (board.DISPLAY) and in the simulator (a PIL
backed display). displayio and the text libraries are imported only when drawing,
so the budget can be computed anywhere.
"""

WIDTH = 296
HEIGHT = 128
MARGIN_X = 2
SEPARATOR_GAP = 2
BLACK = 0x000000
WHITE = 0xFFFFFF

_metrics_cache = {}
_font_cache = {}


def font_metrics(font_path):
    """Return (advance_px, line_height_px) read from the BDF header."""
    if font_path in _metrics_cache:
        return _metrics_cache[font_path]
    ascent = descent = advance = None
    with open(font_path) as handle:
        for line in handle:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "FONT_ASCENT":
                ascent = int(parts[1])
            elif parts[0] == "FONT_DESCENT":
                descent = int(parts[1])
            elif parts[0] == "DWIDTH":
                advance = int(parts[1])
                break
    if ascent is None or descent is None or advance is None:
        raise ValueError("font has no ascent, descent or advance")
    _metrics_cache[font_path] = (advance, ascent + descent)
    return _metrics_cache[font_path]


def layout(font_path):
    """Return the y of the separator, of the first forecast line, and line height."""
    _advance, line_h = font_metrics(font_path)
    separator_y = line_h + SEPARATOR_GAP // 2
    first_line_y = separator_y + 1 + SEPARATOR_GAP
    return separator_y, first_line_y, line_h


def budget(font_path):
    """Return (lines, chars) of forecast text the screen has room for."""
    advance, _line_h = font_metrics(font_path)
    _sep, first_y, line_h = layout(font_path)
    lines = (HEIGHT - first_y) // line_h
    chars = (WIDTH - 2 * MARGIN_X) // advance
    return max(1, min(lines, 12)), max(8, min(chars, 60))


def load_font(font_path):
    """Return the bitmap font, loaded once per boot."""
    if font_path not in _font_cache:
        from adafruit_bitmap_font import bitmap_font

        _font_cache[font_path] = bitmap_font.load_font(font_path)
    return _font_cache[font_path]


def line_positions(font_path, count):
    """Return the top y of each forecast line."""
    _sep, first_y, line_h = layout(font_path)
    return [first_y + index * line_h for index in range(count)]


def build_group(font_path, content):
    """Return a displayio Group that draws content."""
    from adafruit_display_text import label
    import displayio

    font = load_font(font_path)
    group = displayio.Group()

    palette = displayio.Palette(2)
    palette[0] = WHITE
    palette[1] = BLACK
    canvas = displayio.Bitmap(WIDTH, HEIGHT, 2)
    separator_y, _first, _line_h = layout(font_path)
    for x in range(WIDTH):
        canvas[x, separator_y] = 1
    group.append(displayio.TileGrid(canvas, pixel_shader=palette))

    # Labels are placed by their baseline-centred origin, not by anchors, so every
    # line sits on the same baseline whatever letters it holds.
    advance, line_h = font_metrics(font_path)
    middle = line_h // 2
    group.append(_label(label, font, content["status_left"], MARGIN_X, middle))
    right = content["status_right"]
    right_x = WIDTH - MARGIN_X - advance * len(right)
    group.append(_label(label, font, right, right_x, middle))

    lines = content["lines"]
    positions = line_positions(font_path, len(lines))
    for index, text in enumerate(lines):
        y = positions[index]
        if not text:
            continue
        group.append(_label(label, font, text, MARGIN_X, y + middle))
    return group


def _label(label_module, font, text, x, y):
    """Return a black label whose origin is at (x, y)."""
    item = label_module.Label(font, text=text, color=BLACK)
    item.x = x
    item.y = y
    return item


def show(display, font_path, content):
    """Draw content on display and refresh it once."""
    display.root_group = build_group(font_path, content)
    display.refresh()
