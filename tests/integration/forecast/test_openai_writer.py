"""The OpenAI writer against a real client and a scripted server on loopback."""

from __future__ import annotations

import json
import logging
import time

from homeassistant.core import HomeAssistant
import httpx
import openai
import pytest

from custom_components.iot_porter.fitting import DISPLAY_CHARSET
from custom_components.iot_porter.forecast import ForecastWindow
from custom_components.iot_porter.writer import (
    OpenAIWriter,
    WriterAuthError,
    WriterBadAnswer,
    WriterQuotaError,
    WriterRejected,
    WriterRequest,
    WriterUnavailable,
    async_create_client,
    async_validate_key,
    create_client,
    is_reasoning_model,
)

from .conftest import SleepRecorder
from .fake_openai import (
    QUOTA,
    RATE_LIMIT,
    SERVED_MODEL,
    SERVER_ERROR,
    VALID_KEY,
    FakeOpenAI,
    error,
    slow,
    text,
)
from .test_fitting import SMALL, WIDE, assert_fits

ENGLISH = WriterRequest(budget=SMALL, language="en")
SWEDISH = WriterRequest(budget=WIDE, language="sv", instructions="Var kortfattad.")


def _writer(
    client: openai.AsyncOpenAI, sleep: SleepRecorder, **kwargs: object
) -> OpenAIWriter:
    """Return a writer that records its retry waits instead of waiting."""
    return OpenAIWriter(client, sleep=sleep, **kwargs)  # type: ignore[arg-type]


async def test_good_answer_is_fitted_and_its_cost_recorded(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(text("Dry until 18, then rain. 2 to 6°C. Wind rising."))

    answer = await _writer(openai_client, sleep).async_compose(window, ENGLISH)

    assert answer.lines == ["Dry until 18, then rain.", "2 to 6°C. Wind rising."]
    assert answer.model == SERVED_MODEL
    assert answer.tokens.as_dict() == {"prompt": 180, "completion": 32, "total": 212}
    assert sleep.delays == []


async def test_request_carries_the_compact_forecast_and_the_budget(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(text("Uppehåll till kl 18, sedan regn. 2 till 6 °C."))

    answer = await _writer(openai_client, sleep).async_compose(window, SWEDISH)

    body = fake_openai.requests[0]
    system, user = (message["content"] for message in body["messages"])
    assert body["model"] == "gpt-4o-mini"
    assert body["store"] is False
    assert body["temperature"] == pytest.approx(0.3)
    assert "Write in Swedish" in system
    assert "at most 3 lines of at most 40 characters" in system
    forecast = json.loads(user.split("\n")[1])
    assert forecast["units"] == {"temp": "°C", "precip": "mm", "wind": "km/h"}
    assert len(forecast["rows"]) == 13
    assert forecast["rows"][7][:5] == ["21", "pouring", 3.4, None, 2.6]
    assert user.endswith("Household's wishes (keep the limits): Var kortfattad.")
    assert answer.lines == ["Uppehåll till kl 18, sedan regn. 2 till", "6 °C."]


@pytest.mark.parametrize("budget", [SMALL, WIDE], ids=["5x24", "3x40"])
async def test_overlong_markdown_answer_is_forced_into_the_budget(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
    budget: object,
) -> None:
    fake_openai.queue(
        text(
            "## Weather for Stockholm 🌧️\n\n"
            "- **Dry** until 18:00, then rain — heavy at times…\n"
            "- Temperature *falling* from 6 to 2 °C.\n"
            "- Wind picking up to ~38 km/h with gusts near 65 km/h late evening.\n"
            "- Take an umbrella ☂️ and a warm coat!"
        )
    )
    request = WriterRequest(budget=budget, language="en")  # type: ignore[arg-type]

    answer = await _writer(openai_client, sleep).async_compose(window, request)

    assert_fits(answer.lines, request.budget)
    joined = " ".join(answer.lines)
    assert joined.startswith("Dry until 18:00, then rain - heavy at times...")
    assert not set("#*🌧️☂…—") & set(joined)
    assert set(joined) <= DISPLAY_CHARSET


@pytest.mark.parametrize("content", ["", "  \n ", "🌧️☔", "```\n```"])
async def test_empty_or_unreadable_answer_is_a_bad_answer(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
    content: str,
) -> None:
    fake_openai.queue(text(content))

    with pytest.raises(WriterBadAnswer):
        await _writer(openai_client, sleep).async_compose(window, ENGLISH)


async def test_wrong_key_is_an_auth_error_without_retry(
    fake_openai: FakeOpenAI,
    http_client: httpx.AsyncClient,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    client = create_client(
        "sk-wrong-key-0000", http_client=http_client, base_url=fake_openai.base_url
    )

    with pytest.raises(WriterAuthError) as caught:
        await _writer(client, sleep).async_compose(window, ENGLISH)

    assert len(fake_openai.requests) == 1
    assert "sk-wrong-key" not in str(caught.value)


async def test_exhausted_quota_is_a_quota_error_without_retry(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(QUOTA)

    with pytest.raises(WriterQuotaError):
        await _writer(openai_client, sleep).async_compose(window, ENGLISH)

    assert len(fake_openai.requests) == 1
    assert sleep.delays == []


async def test_rate_limit_is_retried_then_unavailable(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(RATE_LIMIT, RATE_LIMIT, RATE_LIMIT)

    with pytest.raises(WriterUnavailable):
        await _writer(openai_client, sleep).async_compose(window, ENGLISH)

    assert len(fake_openai.requests) == 3
    assert sleep.delays == [1.0, 3.0]


async def test_server_error_is_retried_and_can_recover(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(SERVER_ERROR, text("Dry until 18, then rain."))

    answer = await _writer(openai_client, sleep).async_compose(window, ENGLISH)

    assert answer.lines == ["Dry until 18, then rain."]
    assert len(fake_openai.requests) == 2
    assert sleep.delays == [1.0]


async def test_slow_answer_times_out_and_is_unavailable(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(slow(10), slow(10), slow(10))
    writer = _writer(openai_client, sleep, timeout_s=0.3)
    started = time.monotonic()

    with pytest.raises(WriterUnavailable):
        await writer.async_compose(window, ENGLISH)

    assert time.monotonic() - started < 3
    assert len(fake_openai.requests) == 3
    assert sleep.delays == [1.0, 3.0]


async def test_unknown_model_is_rejected_without_retry(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(
        error(404, "model_not_found", "The model `gpt-9` does not exist.", "invalid")
    )

    with pytest.raises(WriterRejected):
        await _writer(openai_client, sleep, model="gpt-9").async_compose(
            window, ENGLISH
        )

    assert len(fake_openai.requests) == 1


async def test_reasoning_model_is_asked_without_temperature(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.queue(text("Dry until 18, then rain."))

    answer = await _writer(openai_client, sleep, model="gpt-5-mini").async_compose(
        window, ENGLISH
    )

    body = fake_openai.requests[0]
    assert "temperature" not in body
    assert body["reasoning_effort"] == "low"
    assert body["max_completion_tokens"] == 2000
    assert answer.model == "gpt-5-mini"
    assert is_reasoning_model("o3-mini")
    assert is_reasoning_model("openai/gpt-5")
    assert not is_reasoning_model("gpt-4o-mini")


async def test_model_refusing_temperature_is_asked_again_without_it(
    fake_openai: FakeOpenAI,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
) -> None:
    fake_openai.refuses_temperature.add("house-model")
    fake_openai.queue(text("Dry until 18, then rain."), text("Dry, then rain."))
    writer = _writer(openai_client, sleep, model="house-model")

    first = await writer.async_compose(window, ENGLISH)
    second = await writer.async_compose(window, ENGLISH)

    assert first.lines == ["Dry until 18, then rain."]
    assert second.lines == ["Dry, then rain."]
    sent = [("temperature" in body) for body in fake_openai.requests]
    # Refused once, then asked without it, and never sent again.
    assert sent == [True, False, False]
    assert sleep.delays == []


async def test_valid_key_passes_validation_with_a_real_request(
    fake_openai: FakeOpenAI, openai_client: openai.AsyncOpenAI
) -> None:
    await async_validate_key(openai_client)

    assert fake_openai.model_list_calls == 1


async def test_key_validation_maps_errors(
    fake_openai: FakeOpenAI, http_client: httpx.AsyncClient
) -> None:
    wrong = create_client(
        "sk-wrong", http_client=http_client, base_url=fake_openai.base_url
    )
    with pytest.raises(WriterAuthError):
        await async_validate_key(wrong)

    fake_openai.quota_exhausted = True
    right = create_client(
        VALID_KEY, http_client=http_client, base_url=fake_openai.base_url
    )
    with pytest.raises(WriterQuotaError):
        await async_validate_key(right)

    # Nothing listens on port 9 of the loopback interface.
    unreachable = create_client(
        VALID_KEY, http_client=http_client, base_url="http://127.0.0.1:9/v1"
    )
    with pytest.raises(WriterUnavailable):
        await async_validate_key(unreachable, timeout_s=2)

    assert fake_openai.model_list_calls == 2


async def test_client_built_for_home_assistant_uses_its_http_client(
    hass: HomeAssistant, fake_openai: FakeOpenAI, sleep: SleepRecorder
) -> None:
    client = await async_create_client(hass, VALID_KEY, base_url=fake_openai.base_url)

    await async_validate_key(client)

    assert client.max_retries == 0
    assert fake_openai.model_list_calls == 1


async def test_api_key_never_reaches_the_log(
    fake_openai: FakeOpenAI,
    http_client: httpx.AsyncClient,
    openai_client: openai.AsyncOpenAI,
    sleep: SleepRecorder,
    window: ForecastWindow,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_openai.queue(SERVER_ERROR, text("Dry until 18, then rain."), QUOTA)
    wrong = create_client(
        "sk-wrong-secret-999", http_client=http_client, base_url=fake_openai.base_url
    )

    await _writer(openai_client, sleep).async_compose(window, ENGLISH)
    with pytest.raises(WriterQuotaError):
        await _writer(openai_client, sleep).async_compose(window, ENGLISH)
    with pytest.raises(WriterAuthError):
        await _writer(wrong, sleep).async_compose(window, ENGLISH)
    with pytest.raises(WriterAuthError):
        await async_validate_key(wrong)

    # The debug log did see the traffic, just never the keys.
    assert "chat/completions" in caplog.text
    assert VALID_KEY not in caplog.text
    assert "sk-wrong-secret" not in caplog.text
