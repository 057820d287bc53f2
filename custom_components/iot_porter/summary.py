"""Write a deterministic forecast summary in English or Swedish, without a cloud."""

from __future__ import annotations

from dataclasses import dataclass
import math

from homeassistant.util import dt as dt_util

from .fitting import NO_BREAK_SPACE, Budget, fit_text
from .forecast import WIND_ORDER, ForecastPoint, ForecastWindow, wind_class

LANGUAGE_ENGLISH = "en"
LANGUAGE_SWEDISH = "sv"
SUPPORTED_LANGUAGES = (LANGUAGE_ENGLISH, LANGUAGE_SWEDISH)

# Below this chance of precipitation a dry window is simply "dry".
RAIN_RISK_PCT = 20
# A change of at least this many degrees between the first and last hour is a trend.
TREND_DEGREES = 3
# Precipitation totals below this (mm) are not worth a mention.
AMOUNT_WORTH_MENTION_MM = 1.0
FREEZING_C = 0.0
FREEZING_F = 32.0


@dataclass(frozen=True, slots=True)
class _Words:
    """The phrases of one language."""

    rain: str
    snow: str
    sleet: str
    throughout: str
    until_then_dry: str
    dry_until_then: str
    spell: str
    likely: str
    dry: str
    sky_and_dry: str
    mostly_dry: str
    around: str
    range: str
    falling: str
    rising: str
    wind_names: tuple[str, str, str, str]
    wind_up_to: str
    wind_rising: str
    wind_easing: str
    gusts: str
    thunder: str
    slippery: str
    fog: str
    sky: dict[str, str]
    unavailable: str
    decimal: str


ENGLISH = _Words(
    rain="rain",
    snow="snow",
    sleet="sleet",
    throughout="{Kind} throughout",
    until_then_dry="{Kind} until {end}, then dry",
    dry_until_then="Dry until {start}, then {kind}",
    spell="{Kind} {start}–{end}, otherwise dry",
    likely="{Kind} likely",
    dry="Dry",
    sky_and_dry="{Sky} and dry",
    mostly_dry="Mostly dry, {kind} risk {pct}%",
    around="Around {value}{unit}",
    range="{low} to {high}{unit}",
    falling="Falling from {first} to {last}{unit}",
    rising="Rising from {first} to {last}{unit}",
    wind_names=("Light wind", "Moderate wind", "Strong wind", "Very strong wind"),
    wind_up_to="{Name}, up to {speed}\u00a0{unit}",
    wind_rising="Wind rising from {hour}, up to {speed}\u00a0{unit}",
    wind_easing="{Name}, easing later",
    gusts=", gusts {gust}",
    thunder="Risk of thunder",
    slippery="Slippery roads possible",
    fog="Fog at times",
    sky={
        "sunny": "Sunny",
        "clear-night": "Clear",
        "partlycloudy": "Partly cloudy",
        "cloudy": "Cloudy",
        "fog": "Foggy",
    },
    unavailable="No forecast right now",
    decimal=".",
)

SWEDISH = _Words(
    rain="regn",
    snow="snö",
    sleet="snöblandat regn",
    throughout="{Kind} hela tiden",
    until_then_dry="{Kind} till kl\u00a0{end}, sedan uppehåll",
    dry_until_then="Uppehåll till kl\u00a0{start}, sedan {kind}",
    spell="{Kind} kl\u00a0{start}–{end}, annars uppehåll",
    likely="{Kind} väntas",
    dry="Uppehåll",
    sky_and_dry="{Sky} och uppehåll",
    mostly_dry="Mest uppehåll, risk för {kind} {pct}%",
    around="Runt {value}{unit}",
    range="{low} till {high}{unit}",
    falling="Sjunker från {first} till {last}{unit}",
    rising="Stiger från {first} till {last}{unit}",
    wind_names=("Svag vind", "Måttlig vind", "Frisk vind", "Hård vind"),
    wind_up_to="{Name}, upp till {speed}\u00a0{unit}",
    wind_rising="Ökande vind från kl\u00a0{hour}, upp till {speed}\u00a0{unit}",
    wind_easing="{Name}, avtar senare",
    gusts=", byar {gust}",
    thunder="Risk för åska",
    slippery="Risk för halka",
    fog="Dimma ibland",
    sky={
        "sunny": "Soligt",
        "clear-night": "Klart",
        "partlycloudy": "Halvklart",
        "cloudy": "Mulet",
        "fog": "Dimmigt",
    },
    unavailable="Ingen prognos just nu",
    decimal=",",
)


def words_for(language: str) -> _Words:
    """Return the phrases for a language code, English when it is not Swedish."""
    return SWEDISH if language.lower().startswith(LANGUAGE_SWEDISH) else ENGLISH


def _capital(text: str) -> str:
    """Return text with its first letter in upper case."""
    return text[:1].upper() + text[1:]


def _hour(point: ForecastPoint) -> str:
    """Return the local clock hour a forecast point starts at."""
    return f"{dt_util.as_local(point.time).hour:02d}"


def _whole(value: float) -> str:
    """Return a number rounded half up to a whole, as people round."""
    return str(math.floor(value + 0.5))


def _precipitation_kind(window: ForecastWindow, words: _Words) -> str:
    """Return the word for what falls during the wet points."""
    conditions = [p.condition for p in window.points if window.is_wet(p)]
    snowy = sum(condition == "snowy" for condition in conditions)
    mixed = sum(condition == "snowy-rainy" for condition in conditions)
    if snowy and snowy * 2 > len(conditions):
        return words.snow
    if mixed or snowy:
        return words.sleet
    return words.rain


def _amount(window: ForecastWindow, words: _Words) -> str | None:
    """Return the total precipitation worth mentioning, with its unit."""
    if window.forecast_type != "hourly":
        return None
    total = sum(p.precipitation or 0.0 for p in window.points)
    in_mm = total * 25.4 if window.precipitation_unit == "in" else total
    if in_mm < AMOUNT_WORTH_MENTION_MM:
        return None
    if window.precipitation_unit == "in":
        value = f"{total:.1f}".replace(".", words.decimal)
    else:
        value = _whole(total)
    return f"{value}{NO_BREAK_SPACE}{window.precipitation_unit}"


def _precipitation_sentence(window: ForecastWindow, words: _Words) -> str:
    """Return when precipitation comes and goes, and how likely it is."""
    points = window.points
    wet = [window.is_wet(point) for point in points]
    probabilities = [
        p.precipitation_probability
        for p in points
        if p.precipitation_probability is not None
    ]
    top = int(_whole(max(probabilities))) if probabilities else None
    kind = _precipitation_kind(window, words)

    if not any(wet):
        if top is not None and top >= RAIN_RISK_PCT:
            return words.mostly_dry.format(kind=kind, pct=top)
        skies = [p.condition for p in points if p.condition in words.sky]
        if skies:
            sky = max(set(skies), key=lambda c: (skies.count(c), -skies.index(c)))
            return words.sky_and_dry.format(Sky=words.sky[sky])
        return words.dry

    first = wet.index(True)
    last = len(wet) - 1 - wet[::-1].index(True)
    values = {"kind": kind, "Kind": _capital(kind)}
    if window.forecast_type != "hourly":
        sentence = words.likely.format(**values)
    elif first == 0 and last == len(points) - 1:
        sentence = words.throughout.format(**values)
    elif first == 0:
        sentence = words.until_then_dry.format(end=_hour(points[last + 1]), **values)
    elif last == len(points) - 1:
        sentence = words.dry_until_then.format(start=_hour(points[first]), **values)
    else:
        sentence = words.spell.format(
            start=_hour(points[first]), end=_hour(points[last + 1]), **values
        )

    details = [f"{top}%"] if top is not None else []
    if (amount := _amount(window, words)) is not None:
        details.append(amount)
    return f"{sentence} ({', '.join(details)})" if details else sentence


def _temperature_sentence(window: ForecastWindow, words: _Words) -> str | None:
    """Return the temperature range, or its trend when it clearly moves one way."""
    span = window.temperature_range()
    if span is None:
        return None
    low, high = (int(_whole(value)) for value in span)
    unit = window.temperature_unit
    temperatures = [p.temperature for p in window.points if p.temperature is not None]
    if window.forecast_type == "hourly" and len(temperatures) >= 2:
        first, last = int(_whole(temperatures[0])), int(_whole(temperatures[-1]))
        # A trend only reads right when the ends of the window are its extremes.
        if {first, last} == {low, high} and abs(last - first) >= TREND_DEGREES:
            phrase = words.falling if last < first else words.rising
            return phrase.format(first=first, last=last, unit=unit)
    if low == high:
        return words.around.format(value=low, unit=unit)
    return words.range.format(low=low, high=high, unit=unit)


def _wind_sentence(window: ForecastWindow, words: _Words) -> str | None:
    """Return how windy it gets, and whether the wind rises or eases."""
    rated = [
        (point, WIND_ORDER.index(name))
        for point in window.points
        if (name := window.wind_class(point)) is not None
    ]
    if not rated:
        return None
    classes = [rank for _, rank in rated]
    strongest = max(classes)
    speeds = [p.wind_speed for p, _ in rated if p.wind_speed is not None]
    speed = _whole(max(speeds))
    unit = window.wind_speed_unit
    name = words.wind_names[strongest]

    if window.forecast_type == "hourly" and classes[0] < strongest:
        rise = next(point for point, rank in rated if rank == strongest)
        sentence = words.wind_rising.format(hour=_hour(rise), speed=speed, unit=unit)
    elif classes[-1] < strongest and classes[0] == strongest:
        sentence = words.wind_easing.format(Name=name)
    elif strongest == 0:
        sentence = name
    else:
        sentence = words.wind_up_to.format(Name=name, speed=speed, unit=unit)

    gusts = [p.wind_gust_speed for p, _ in rated if p.wind_gust_speed is not None]
    if gusts:
        gust_class = wind_class(max(gusts), unit)
        # Gusts are news only when they are in a stronger class than the wind.
        if gust_class is not None and WIND_ORDER.index(gust_class) > max(strongest, 1):
            sentence += words.gusts.format(gust=_whole(max(gusts)))
    return sentence


def _notes(window: ForecastWindow, words: _Words) -> list[str]:
    """Return short warnings worth a line of their own."""
    conditions = {p.condition for p in window.points}
    notes = []
    if conditions & {"lightning", "lightning-rainy"}:
        notes.append(words.thunder)
    span = window.temperature_range()
    freezing = FREEZING_F if window.temperature_unit == "°F" else FREEZING_C
    if (
        span is not None
        and span[0] <= freezing
        and any(window.is_wet(p) for p in window.points)
    ):
        notes.append(words.slippery)
    if "fog" in conditions and not any(window.is_wet(p) for p in window.points):
        notes.append(words.fog)
    return notes


def local_summary(window: ForecastWindow, language: str) -> str:
    """Return the summary as sentences, most important first, one per line."""
    words = words_for(language)
    sentences = [
        _precipitation_sentence(window, words),
        _temperature_sentence(window, words),
        _wind_sentence(window, words),
        *_notes(window, words),
    ]
    return "\n".join(f"{sentence}." for sentence in sentences if sentence)


def local_lines(window: ForecastWindow, language: str, budget: Budget) -> list[str]:
    """Return the summary fitted to a board's budget."""
    return fit_text(local_summary(window, language), budget)


def unavailable_lines(language: str, budget: Budget) -> list[str]:
    """Return the short notice shown when no forecast can be had at all."""
    return fit_text(f"{words_for(language).unavailable}.", budget)
