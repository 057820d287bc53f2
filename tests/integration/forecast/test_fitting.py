"""Cleaning text and forcing it into a board's lines x characters budget."""

from __future__ import annotations

import pytest

from custom_components.iot_porter.fitting import (
    DISPLAY_CHARSET,
    Budget,
    UnusableTextError,
    clean_text,
    fit_text,
    state_text,
)

SMALL = Budget(lines=5, chars=24)
WIDE = Budget(lines=3, chars=40)


def assert_fits(lines: list[str], budget: Budget) -> None:
    """Fail unless every line fits and uses only drawable characters."""
    assert 0 < len(lines) <= budget.lines
    for line in lines:
        assert 0 < len(line) <= budget.chars, line
        assert set(line) <= DISPLAY_CHARSET, line
        assert line == line.strip()


def test_markdown_decoration_is_removed() -> None:
    answer = (
        "# Today's weather\n"
        "```text\n"
        "- **Dry** until 18, then _rain_.\n"
        "* Wind `rising` in the [evening](https://example.com).\n"
        "```\n"
    )

    assert clean_text(answer) == (
        "Dry until 18, then rain.\nWind rising in the evening."
    )


def test_typographic_marks_become_ascii_and_emoji_vanish() -> None:
    answer = "“Bring an umbrella” — it’s wet… 🌧️☔ 2–6 °C, Göteborg\u00a0too"

    assert clean_text(answer) == (
        '"Bring an umbrella" - it\'s wet... 2–6 °C, Göteborg too'
    )


def test_control_characters_are_dropped_and_accents_folded() -> None:
    assert clean_text("Cr\x00ème\x1b brûlée\u200b in Århus, Ørsted") == (
        "Creme brulée in Århus, Orsted"
    )


@pytest.mark.parametrize("budget", [SMALL, WIDE], ids=["5x24", "3x40"])
def test_short_answer_fits_both_budgets(budget: Budget) -> None:
    lines = fit_text("Dry until 18, then rain. 2 to 6°C. Wind rising.", budget)

    assert_fits(lines, budget)
    assert " ".join(lines) == "Dry until 18, then rain. 2 to 6°C. Wind rising."


def test_answer_lines_are_kept_when_they_fit() -> None:
    lines = fit_text("Dry until 18.\nThen rain.\n2 to 6°C.", SMALL)

    assert lines == ["Dry until 18.", "Then rain.", "2 to 6°C."]


def test_overlong_answer_keeps_whole_leading_sentences() -> None:
    answer = (
        "Dry until 18, then steady rain. Temperatures 2 to 6°C. "
        "Wind picks up from the south-west in the evening, with strong gusts "
        "along the coast. Take an umbrella and a warm jacket when you go out."
    )

    small = fit_text(answer, SMALL)
    wide = fit_text(answer, WIDE)

    assert_fits(small, SMALL)
    assert_fits(wide, WIDE)
    assert " ".join(small) == ("Dry until 18, then steady rain. Temperatures 2 to 6°C.")
    assert " ".join(wide) == ("Dry until 18, then steady rain. Temperatures 2 to 6°C.")
    assert not any(line.endswith("...") for line in small + wide)


def test_first_sentence_too_long_is_cut_with_three_dots() -> None:
    answer = (
        "A long grey afternoon turns into a wet and windy evening with rain "
        "from about six o'clock and gusts that make umbrellas a poor idea"
    )

    lines = fit_text(answer, Budget(lines=2, chars=24))

    assert_fits(lines, Budget(lines=2, chars=24))
    assert lines[-1].endswith("...")
    assert lines[0] == "A long grey afternoon"


def test_word_longer_than_a_line_is_broken() -> None:
    lines = fit_text("Regnbågsförhållandena idag", Budget(lines=4, chars=10))

    assert lines == ["Regnbågsfö", "rhållanden", "a idag"]


@pytest.mark.parametrize(
    "answer",
    ["", "   \n\n", "```\n```", "🌧️☔🌬️", "**OK**", "- 42\n- 17 °"],
    ids=["empty", "blank", "empty_fence", "emoji_only", "too_short", "no_words"],
)
def test_unusable_answers_are_refused(answer: str) -> None:
    with pytest.raises(UnusableTextError):
        fit_text(answer, SMALL)


def test_budget_outside_the_contract_is_refused() -> None:
    with pytest.raises(ValueError):
        Budget(lines=13, chars=24)
    with pytest.raises(ValueError):
        Budget(lines=5, chars=7)


def test_state_text_stays_within_the_sensor_limit() -> None:
    lines = ["Rain and wind all evening, take care out there."] * 12

    text = state_text(lines)

    assert len(text) <= 255
    assert text.endswith("...")
    assert state_text(["Dry.", "2 to 6°C."]) == "Dry. 2 to 6°C."
