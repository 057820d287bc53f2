"""Clean any text and force it into a board's lines x characters budget."""

from __future__ import annotations

import re
import textwrap
import unicodedata

from .protocol import DISPLAY_CHARSET, ScreenBudget as Budget

__all__ = ["DISPLAY_CHARSET", "Budget", "UnusableTextError", "fit_text"]

# Fewer letters than this after cleaning is not a forecast anyone can read.
MIN_LETTERS = 6
# "…" is not in the board's font, so a cut-off sentence ends with three dots.
ELLIPSIS = "..."
# A no-break space keeps a number with its unit; it becomes a space after wrapping.
NO_BREAK_SPACE = "\u00a0"
# Home Assistant refuses sensor states longer than this.
MAX_STATE_CHARS = 255

_REPLACEMENTS = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "‹": "'",
    "›": "'",
    "—": "-",
    "―": "-",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "−": "-",
    "…": ELLIPSIS,
    "•": "-",
    "·": "-",
    "×": "x",
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "ø": "o",
    "Ø": "O",
    "ð": "d",
    "þ": "th",
}

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s*")
_QUOTE = re.compile(r"^\s*>+\s?")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+")
_RULE = re.compile(r"^\s*([-*_=])(\s*\1){2,}\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC_STAR = re.compile(r"\*(?=\S)([^*]+?)(?<=\S)\*")
_ITALIC_UNDERSCORE = re.compile(r"(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)")
_INLINE_CODE = re.compile(r"`+([^`]*)`+")
_SPACES = re.compile(r"[ \t]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class UnusableTextError(ValueError):
    """Raised when nothing readable is left of a text after cleaning."""


def to_charset(text: str) -> str:
    """Return text with every character mapped into the display character set."""
    out: list[str] = []
    for char in text:
        if char in DISPLAY_CHARSET or char in ("\n", NO_BREAK_SPACE):
            out.append(char)
        elif char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
        elif unicodedata.category(char) == "Zs" or char == "\t":
            out.append(" ")
        else:
            # Accented letters lose their accent; emoji and symbols vanish.
            decomposed = unicodedata.normalize("NFKD", char)
            out.extend(part for part in decomposed if part in DISPLAY_CHARSET)
    return "".join(out)


def _strip_markdown_line(line: str) -> str:
    """Return one line without its markdown decoration."""
    if _RULE.match(line):
        return ""
    line = _HEADER.sub("", line)
    line = _QUOTE.sub("", line)
    line = _BULLET.sub("", line)
    line = _LINK.sub(r"\1", line)
    line = _INLINE_CODE.sub(r"\1", line)
    line = _BOLD.sub(r"\2", line)
    line = _ITALIC_STAR.sub(r"\1", line)
    return _ITALIC_UNDERSCORE.sub(r"\1", line)


def clean_paragraphs(text: str) -> list[str]:
    """Return the readable paragraphs of text: no markdown, no foreign glyphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[str] = []
    headings: list[str] = []
    for raw in text.split("\n"):
        if _FENCE.match(raw):
            continue
        is_heading = bool(_HEADER.match(raw))
        line = _strip_markdown_line(raw)
        # Control and format characters never reach the screen.
        line = "".join(char for char in line if unicodedata.category(char)[0] != "C")
        line = _SPACES.sub(" ", to_charset(line)).strip()
        if line:
            (headings if is_heading else paragraphs).append(line)
    # A heading is a title the small screen has no room for, unless it is all.
    return paragraphs or headings


def clean_text(text: str) -> str:
    """Return text cleaned for the display, paragraphs joined by newlines."""
    return "\n".join(clean_paragraphs(text)).replace(NO_BREAK_SPACE, " ")


def is_usable(text: str) -> bool:
    """Return whether a cleaned text has enough letters to be a forecast."""
    return sum(char.isalpha() for char in text) >= MIN_LETTERS


def _wrap(paragraph: str, width: int) -> list[str]:
    """Return one paragraph word-wrapped, breaking words longer than a line."""
    return textwrap.wrap(
        paragraph,
        width=width,
        break_long_words=True,
        break_on_hyphens=False,
    )


def _layout(paragraphs: list[str], budget: Budget) -> list[str]:
    """Return the shortest wrapping of paragraphs: kept apart, else run together."""
    separate = [line for part in paragraphs for line in _wrap(part, budget.chars)]
    if len(separate) <= budget.lines:
        return separate
    return _wrap(" ".join(paragraphs), budget.chars)


def _cut_with_ellipsis(paragraphs: list[str], budget: Budget) -> list[str]:
    """Return the first lines of the text, the last one ending in an ellipsis."""
    lines = _wrap(" ".join(paragraphs), budget.chars)[: budget.lines]
    last = lines[-1]
    room = budget.chars - len(ELLIPSIS)
    if len(last) > room:
        cut = last[:room]
        # Cut at a word boundary when the line has one in a sensible place.
        space = cut.rfind(" ")
        last = cut[:space] if space > room // 2 else cut
    lines[-1] = last.rstrip(" ,;:-–") + ELLIPSIS
    return lines


def fit_text(text: str, budget: Budget) -> list[str]:
    """Return text cleaned and fitted to the budget, or raise UnusableTextError."""
    return [line.replace(NO_BREAK_SPACE, " ") for line in _fit_paragraphs(text, budget)]


def _fit_paragraphs(text: str, budget: Budget) -> list[str]:
    """Return the fitted lines, no-break spaces still in place."""
    paragraphs = clean_paragraphs(text)
    if not is_usable(" ".join(paragraphs)):
        raise UnusableTextError("no readable text left after cleaning")

    lines = _layout(paragraphs, budget)
    if len(lines) <= budget.lines:
        return lines

    # Too long: keep the leading whole sentences that fit, in order.
    sentences = [
        (index, sentence)
        for index, paragraph in enumerate(paragraphs)
        for sentence in _SENTENCE_END.split(paragraph)
        if sentence
    ]
    for count in range(len(sentences) - 1, 0, -1):
        kept: dict[int, list[str]] = {}
        for index, sentence in sentences[:count]:
            kept.setdefault(index, []).append(sentence)
        lines = _layout([" ".join(parts) for parts in kept.values()], budget)
        if len(lines) <= budget.lines and is_usable(" ".join(lines)):
            return lines

    # Not even the first sentence fits: cut it and say so.
    return _cut_with_ellipsis(paragraphs, budget)


def state_text(lines: list[str]) -> str:
    """Return the lines joined for a sensor state, within Home Assistant's limit."""
    text = " ".join(lines)
    if len(text) <= MAX_STATE_CHARS:
        return text
    cut = text[: MAX_STATE_CHARS - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > MAX_STATE_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS
