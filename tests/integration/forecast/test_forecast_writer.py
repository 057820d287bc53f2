"""When the writer asks OpenAI, what it shares between boards, and its fallbacks."""

from __future__ import annotations

from datetime import datetime, timedelta
import json
import logging
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
import httpx
import openai
import pytest

from custom_components.iot_porter.fitting import Budget
from custom_components.iot_porter.forecast import (
    ForecastWindow,
    async_get_forecast_window,
)
from custom_components.iot_porter.summary import local_lines
from custom_components.iot_porter.writer import (
    REASON_AUTH,
    REASON_BAD_ANSWER,
    REASON_DAILY_CAP,
    REASON_FORECAST_UNAVAILABLE,
    REASON_QUOTA,
    REASON_REJECTED,
    REASON_UNAVAILABLE,
    SOURCE_LOCAL,
    SOURCE_OPENAI,
    ForecastWriter,
    OpenAIWriter,
    WriterRequest,
    create_client,
)

from .conftest import SleepRecorder
from .fake_openai import (
    QUOTA,
    SERVED_MODEL,
    SERVER_ERROR,
    VALID_KEY,
    FakeOpenAI,
    Reply,
    error,
    text,
)
from .test_fitting import SMALL, WIDE, assert_fits
from .weather_entities import NOW, PorterTestWeather, stockholm_hourly

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ENGLISH = WriterRequest(budget=SMALL, language="en")
SWEDISH = WriterRequest(budget=WIDE, language="sv")
GOOD = "Dry until 18, then rain. 2 to 6°C."


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        """Start at a given local time."""
        self.now = now

    def __call__(self) -> datetime:
        """Return the current time."""
        return self.now


@pytest.fixture
def clock() -> Clock:
    """Return a clock at 14:20 in Stockholm."""
    return Clock(NOW.astimezone(STOCKHOLM))


@pytest.fixture
def writer(
    openai_client: openai.AsyncOpenAI, sleep: SleepRecorder, clock: Clock
) -> ForecastWriter:
    """Return a forecast writer using the fake OpenAI, with a cap of 3 a day."""
    return ForecastWriter(
        OpenAIWriter(openai_client, sleep=sleep), daily_cap=3, now=clock
    )


async def _colder(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> ForecastWindow:
    """Return a window whose evening is several degrees colder."""
    weather["weather.stockholm"].hourly = stockholm_hourly(
        {i: {"native_temperature": -2.0} for i in range(6, 13)}
    )
    return await async_get_forecast_window(hass, "weather.stockholm", now=NOW)


async def test_without_openai_the_local_summary_is_used(
    window: ForecastWindow, clock: Clock
) -> None:
    result = await ForecastWriter(now=clock).async_write(window, SWEDISH)

    assert result.source == SOURCE_LOCAL
    assert result.error is None
    assert result.lines == local_lines(window, "sv", WIDE)
    assert result.window_start == NOW
    assert result.window_end == NOW + timedelta(hours=12)
    assert result.text == " ".join(result.lines)


@pytest.mark.parametrize(
    ("request_", "answer"),
    [
        (ENGLISH, GOOD),
        (SWEDISH, "Uppehåll till kl 18, sedan regn. 2 till 6 °C, ökande vind."),
    ],
    ids=["english", "swedish"],
)
async def test_openai_text_is_returned_with_its_provenance(
    fake_openai: FakeOpenAI,
    writer: ForecastWriter,
    window: ForecastWindow,
    clock: Clock,
    request_: WriterRequest,
    answer: str,
) -> None:
    fake_openai.queue(text(answer))

    result = await writer.async_write(window, request_)

    assert result.source == SOURCE_OPENAI
    assert result.error is None
    assert result.model == SERVED_MODEL
    assert result.generated_at == clock.now
    assert result.tokens is not None and result.tokens.total == 212
    assert " ".join(result.lines) == answer
    assert_fits(result.lines, request_.budget)
    assert writer.stats["calls_today"] == 1
    assert writer.stats["tokens"] == {"prompt": 180, "completion": 32, "total": 212}


async def test_unchanged_forecast_is_not_sent_again(
    fake_openai: FakeOpenAI,
    writer: ForecastWriter,
    window: ForecastWindow,
    clock: Clock,
) -> None:
    fake_openai.queue(text(GOOD))
    first = await writer.async_write(window, ENGLISH)
    clock.now += timedelta(hours=1)

    second = await writer.async_write(window, ENGLISH)

    assert second.cached
    assert second.lines == first.lines
    assert second.source == SOURCE_OPENAI
    assert len(fake_openai.requests) == 1
    assert writer.stats["skipped_total"] == 1
    assert writer.stats["calls_total"] == 1


async def test_boards_with_the_same_budget_share_one_text(
    fake_openai: FakeOpenAI, writer: ForecastWriter, window: ForecastWindow
) -> None:
    fake_openai.queue(text(GOOD), text("Uppehåll, sedan regn i kväll."))

    hall = await writer.async_write(window, ENGLISH)
    porch = await writer.async_write(window, WriterRequest(Budget(5, 24), "en"))
    cabin = await writer.async_write(window, SWEDISH)

    assert porch.lines == hall.lines
    assert cabin.lines == ["Uppehåll, sedan regn i kväll."]
    assert len(fake_openai.requests) == 2


async def test_material_change_asks_again(
    hass: HomeAssistant,
    weather: dict[str, PorterTestWeather],
    fake_openai: FakeOpenAI,
    writer: ForecastWriter,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(text(GOOD), text("Dry until 18, then sleet. -2 to 6°C."))
    await writer.async_write(window, ENGLISH)

    result = await writer.async_write(await _colder(hass, weather), ENGLISH)

    assert not result.cached
    assert result.lines == ["Dry until 18, then", "sleet. -2 to 6°C."]
    assert len(fake_openai.requests) == 2


async def test_old_text_is_replaced_after_the_maximum_age(
    fake_openai: FakeOpenAI,
    writer: ForecastWriter,
    window: ForecastWindow,
    clock: Clock,
) -> None:
    fake_openai.queue(text(GOOD), text("Dry until 18, then rain."))
    await writer.async_write(window, ENGLISH)
    clock.now += timedelta(hours=12, minutes=1)

    result = await writer.async_write(window, ENGLISH)

    assert not result.cached
    assert result.lines == ["Dry until 18, then rain."]


async def test_refresh_now_bypasses_the_shared_text(
    fake_openai: FakeOpenAI, writer: ForecastWriter, window: ForecastWindow
) -> None:
    fake_openai.queue(text(GOOD), text("Dry until 18, then rain."))
    await writer.async_write(window, ENGLISH)

    result = await writer.async_write(window, ENGLISH, force=True)

    assert result.lines == ["Dry until 18, then rain."]
    assert len(fake_openai.requests) == 2


async def test_daily_cap_falls_back_locally_until_midnight(
    hass: HomeAssistant,
    weather: dict[str, PorterTestWeather],
    fake_openai: FakeOpenAI,
    writer: ForecastWriter,
    window: ForecastWindow,
    clock: Clock,
) -> None:
    colder = await _colder(hass, weather)
    fake_openai.queue(text(GOOD), text(GOOD), text(GOOD), text(GOOD))
    for request in (ENGLISH, SWEDISH, WriterRequest(Budget(4, 30), "en")):
        assert (await writer.async_write(window, request)).source == SOURCE_OPENAI

    capped = await writer.async_write(colder, ENGLISH)

    assert capped.source == SOURCE_LOCAL
    assert capped.error == REASON_DAILY_CAP
    assert capped.lines == local_lines(colder, "en", SMALL)
    assert len(fake_openai.requests) == 3
    assert writer.stats["capped_total"] == 1

    # Just after local midnight the count starts again.
    clock.now = datetime(2025, 12, 4, 0, 5, tzinfo=STOCKHOLM)
    fresh = await writer.async_write(colder, ENGLISH)

    assert fresh.source == SOURCE_OPENAI
    assert writer.stats["calls_today"] == 1


@pytest.mark.parametrize(
    ("replies", "reason"),
    [
        ([QUOTA], REASON_QUOTA),
        ([SERVER_ERROR] * 3, REASON_UNAVAILABLE),
        ([text("")], REASON_BAD_ANSWER),
        ([text("**☀️**")], REASON_BAD_ANSWER),
        ([error(400, "invalid_value", "Invalid 'messages'.")], REASON_REJECTED),
    ],
    ids=["quota", "server_error", "empty", "emoji_only", "rejected"],
)
async def test_every_failure_gives_the_local_summary_and_says_why(
    fake_openai: FakeOpenAI,
    writer: ForecastWriter,
    window: ForecastWindow,
    replies: list[Reply],
    reason: str,
) -> None:
    fake_openai.queue(*replies)

    result = await writer.async_write(window, SWEDISH)

    assert result.source == SOURCE_LOCAL
    assert result.error == reason
    assert result.lines == local_lines(window, "sv", WIDE)
    assert writer.stats["last_error"] == reason
    assert writer.stats["failures_total"] == 1


async def test_failed_forecast_waits_before_asking_again(
    fake_openai: FakeOpenAI,
    http_client: httpx.AsyncClient,
    sleep: SleepRecorder,
    window: ForecastWindow,
    clock: Clock,
) -> None:
    wrong = create_client(
        "sk-revoked-key", http_client=http_client, base_url=fake_openai.base_url
    )
    writer = ForecastWriter(OpenAIWriter(wrong, sleep=sleep), now=clock)

    first = await writer.async_write(window, ENGLISH)
    clock.now += timedelta(minutes=10)
    second = await writer.async_write(window, ENGLISH)

    assert (first.error, second.error) == (REASON_AUTH, REASON_AUTH)
    assert len(fake_openai.requests) == 1

    # A new key (after reauthentication) is tried straight away.
    right = create_client(
        VALID_KEY, http_client=http_client, base_url=fake_openai.base_url
    )
    writer.openai_writer = OpenAIWriter(right, sleep=sleep)
    fake_openai.queue(text(GOOD))
    third = await writer.async_write(window, ENGLISH)

    assert third.source == SOURCE_OPENAI
    assert writer.stats["last_error"] is None


async def test_state_survives_a_restart(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    writer: ForecastWriter,
    window: ForecastWindow,
    clock: Clock,
) -> None:
    fake_openai.queue(text(GOOD))
    first = await writer.async_write(window, ENGLISH)
    stored = json.loads(json.dumps(writer.as_dict()))

    restarted = ForecastWriter(
        OpenAIWriter(openai_client, sleep=sleep),
        daily_cap=3,
        state=stored,
        now=clock,
    )
    again = await restarted.async_write(window, ENGLISH)

    assert again.cached
    assert again.lines == first.lines
    assert again.generated_at == first.generated_at
    assert again.tokens == first.tokens
    assert len(fake_openai.requests) == 1
    assert restarted.stats["calls_today"] == 1
    assert restarted.stats["tokens"]["total"] == 212
    assert len(json.dumps(stored)) < 2000


def test_damaged_state_is_ignored(clock: Clock) -> None:
    writer = ForecastWriter(
        state={"version": 1, "calls_today": "x", "texts": {"k": {"lines": 3}}},
        now=clock,
    )

    assert writer.stats["calls_today"] == 0
    assert writer.as_dict()["texts"] == {}


def test_missing_forecast_gives_a_notice_not_a_blank(clock: Clock) -> None:
    result = ForecastWriter(now=clock).unavailable_result(SWEDISH)

    assert result.lines == ["Ingen prognos just nu."]
    assert result.error == REASON_FORECAST_UNAVAILABLE


async def test_fallbacks_never_log_the_key(
    fake_openai: FakeOpenAI,
    writer: ForecastWriter,
    window: ForecastWindow,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.valid_key = "sk-rotated"

    result = await writer.async_write(window, ENGLISH)

    assert result.error == REASON_AUTH
    assert "Using the local forecast summary" in caplog.text
    assert VALID_KEY not in caplog.text


async def test_stored_texts_are_bounded_to_the_newest(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
    clock: Clock,
) -> None:
    writer = ForecastWriter(OpenAIWriter(openai_client, sleep=sleep), now=clock)
    widths = range(20, 30)
    fake_openai.queue(*(text(GOOD) for _ in range(len(widths) + 1)))
    for chars in widths:
        clock.now += timedelta(minutes=1)
        await writer.async_write(window, WriterRequest(Budget(5, chars), "en"))

    texts = writer.as_dict()["texts"]

    assert len(texts) == 8
    # The two oldest (20 and 21 characters wide) were dropped; 29 is still shared.
    again = await writer.async_write(window, WriterRequest(Budget(5, 29), "en"))
    assert again.cached
    oldest = await writer.async_write(window, WriterRequest(Budget(5, 20), "en"))
    assert not oldest.cached
    assert oldest.source == SOURCE_OPENAI
    assert len(fake_openai.requests) == len(widths) + 1
