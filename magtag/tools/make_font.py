"""Rasterise the board's bitmap font (BDF) from DejaVu Sans Mono with Pillow.

Run: python -m magtag.tools.make_font [TTF] ; writes magtag/porter/fonts/.
The glyph set is the contract's display character set (docs/protocol.md).
"""

from pathlib import Path
import sys

from PIL import Image, ImageDraw, ImageFont

DEFAULT_TTF = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
SIZE_PX = 14
ADVANCE_PX = 8
FONT_NAME = "PorterMono"
EXTRA_CHARS = "°åäöÅÄÖéÉüÜ–"
CHARSET = "".join(chr(code) for code in range(0x20, 0x7F)) + EXTRA_CHARS
OUT = Path(__file__).resolve().parent.parent / "porter" / "fonts" / "porter-mono-14.bdf"


def glyph_rows(font: ImageFont.FreeTypeFont, char: str, ascent: int, descent: int):
    """Return (bbx, rows) of one glyph drawn without anti-aliasing."""
    height = ascent + descent
    image = Image.new("1", (ADVANCE_PX + 4, height), 0)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    draw.text((0, ascent), char, font=font, fill=1, anchor="ls")
    box = image.getbbox()
    if box is None:
        return (0, 0, 0, 0), []
    left, top, right, bottom = box
    rows = []
    for y in range(top, bottom):
        value = 0
        for x in range(left, right):
            value = (value << 1) | (1 if image.getpixel((x, y)) else 0)
        width = right - left
        padded = (width + 7) // 8 * 8
        rows.append("%0*X" % (padded // 4, value << (padded - width)))
    return (right - left, bottom - top, left, ascent - bottom), rows


def make_bdf(ttf: str) -> str:
    """Return the BDF text for the whole character set."""
    font = ImageFont.truetype(ttf, SIZE_PX)
    ascent, descent = font.getmetrics()
    out = [
        "STARTFONT 2.1",
        "COMMENT Rasterised from DejaVu Sans Mono (Bitstream Vera licence, see",
        "COMMENT LICENSE-font.txt); renamed as that licence requires.",
        f"FONT -porter-{FONT_NAME}-Medium-R-Normal--{SIZE_PX}-140-75-75-C-80-"
        "ISO10646-1",
        f"SIZE {SIZE_PX} 75 75",
        f"FONTBOUNDINGBOX {ADVANCE_PX} {ascent + descent} 0 {-descent}",
        "STARTPROPERTIES 4",
        f"FONT_ASCENT {ascent}",
        f"FONT_DESCENT {descent}",
        'SPACING "C"',
        "DEFAULT_CHAR 63",
        "ENDPROPERTIES",
        f"CHARS {len(CHARSET)}",
    ]
    for char in CHARSET:
        (width, height, xoff, yoff), rows = glyph_rows(font, char, ascent, descent)
        out += [
            f"STARTCHAR U+{ord(char):04X}",
            f"ENCODING {ord(char)}",
            f"SWIDTH {ADVANCE_PX * 1000 // SIZE_PX} 0",
            f"DWIDTH {ADVANCE_PX} 0",
            f"BBX {width} {height} {xoff} {yoff}",
            "BITMAP",
            *rows,
            "ENDCHAR",
        ]
    out.append("ENDFONT")
    return "\n".join(out) + "\n"


def main() -> None:
    """Write the BDF next to the firmware."""
    ttf = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TTF
    OUT.write_text(make_bdf(ttf), encoding="ascii")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
