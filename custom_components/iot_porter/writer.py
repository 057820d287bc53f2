"""Ask OpenAI to phrase the forecast, with a local summary whenever it cannot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import hashlib
import json
import logging
import re
from typing import Any, cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers.httpx_client import get_async_client
from homeassistant.util import dt as dt_util
import httpx
import openai

from .fitting import Budget, UnusableTextError, fit_text, state_text
from .forecast import ForecastWindow, fingerprint
from .summary import local_lines, unavailable_lines

_LOGGER = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_RETRIES = 2
# Waits between attempts after a timeout, a 5xx or a rate limit.
RETRY_BACKOFF_S: tuple[float, ...] = (1.0, 3.0)
VALIDATE_TIMEOUT_S = 10.0
DEFAULT_DAILY_CAP = 24
DEFAULT_MAX_AGE = timedelta(hours=12)
# After a failure the same forecast is not sent again for this long.
FAILURE_BACKOFF = timedelta(minutes=30)
MAX_CACHED_TEXTS = 8
MAX_INSTRUCTIONS_CHARS = 500
SAMPLING_TEMPERATURE = 0.3
# Reasoning models spend output tokens on thinking before the first word.
MAX_OUTPUT_TOKENS = 400
MAX_OUTPUT_TOKENS_REASONING = 2000
STATE_VERSION = 1

SOURCE_OPENAI = "openai"
SOURCE_LOCAL = "local"

REASON_AUTH = "auth"
REASON_QUOTA = "quota"
REASON_UNAVAILABLE = "unavailable"
REASON_REJECTED = "rejected"
REASON_BAD_ANSWER = "bad_answer"
REASON_DAILY_CAP = "daily_cap"
REASON_FORECAST_UNAVAILABLE = "forecast_unavailable"

LANGUAGE_NAMES = {"en": "English", "sv": "Swedish"}

# Request fields a server may refuse for some models; each is dropped once on a 400.
_OPTIONAL_PARAMS = ("temperature", "reasoning_effort", "store", "max_completion_tokens")
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")
_UNSUPPORTED = re.compile(r"unsupported|not supported|unrecognized|unknown", re.I)
_RETRYABLE_STATUS = frozenset({408, 409})


class WriterError(Exception):
    """Raised when OpenAI gives no usable text; reason says what the hub can do."""

    reason = REASON_UNAVAILABLE


class WriterAuthError(WriterError):
    """Raised when OpenAI refuses the API key."""

    reason = REASON_AUTH


class WriterQuotaError(WriterError):
    """Raised when the OpenAI account has no credit left."""

    reason = REASON_QUOTA


class WriterUnavailable(WriterError):
    """Raised when OpenAI times out, fails or rate-limits after every retry."""

    reason = REASON_UNAVAILABLE


class WriterRejected(WriterError):
    """Raised when OpenAI refuses the request itself (unknown model, bad field)."""

    reason = REASON_REJECTED


class WriterBadAnswer(WriterError):
    """Raised when the answer is empty or nothing readable is left of it."""

    reason = REASON_BAD_ANSWER


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens one or more requests used."""

    prompt: int = 0
    completion: int = 0
    total: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        """Return the sum of two usages."""
        return TokenUsage(
            self.prompt + other.prompt,
            self.completion + other.completion,
            self.total + other.total,
        )

    def as_dict(self) -> dict[str, int]:
        """Return the usage as a plain dict."""
        return {
            "prompt": self.prompt,
            "completion": self.completion,
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, data: Any) -> TokenUsage:
        """Return a usage from a stored dict, zero where it is unreadable."""
        if not isinstance(data, Mapping):
            return cls()
        values = [data.get(key) for key in ("prompt", "completion", "total")]
        prompt, completion, total = (
            value if isinstance(value, int) else 0 for value in values
        )
        return cls(prompt, completion, total)


@dataclass(frozen=True, slots=True)
class WriterRequest:
    """What one board needs: its budget, its language and the user's wishes."""

    budget: Budget
    language: str = "en"
    instructions: str = ""


@dataclass(frozen=True, slots=True)
class OpenAIAnswer:
    """Text OpenAI wrote, already fitted, and what it cost."""

    lines: list[str]
    model: str
    tokens: TokenUsage


@dataclass(frozen=True, slots=True)
class ForecastResult:
    """The forecast text for a board and where it came from."""

    lines: list[str]
    source: str
    generated_at: datetime
    fingerprint: str | None
    window_start: datetime | None = None
    window_end: datetime | None = None
    forecast_type: str | None = None
    model: str | None = None
    tokens: TokenUsage | None = None
    error: str | None = None
    cached: bool = False

    @property
    def text(self) -> str:
        """Return the lines as one string that fits a sensor state."""
        return state_text(self.lines)

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-safe data."""
        return {
            "lines": list(self.lines),
            "source": self.source,
            "generated_at": self.generated_at.isoformat(),
            "fingerprint": self.fingerprint,
            "window_start": _iso(self.window_start),
            "window_end": _iso(self.window_end),
            "forecast_type": self.forecast_type,
            "model": self.model,
            "tokens": self.tokens.as_dict() if self.tokens else None,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForecastResult:
        """Return a result from stored data; raise ValueError when it is damaged."""
        lines = data.get("lines")
        generated_at = _parse(data.get("generated_at"))
        if not isinstance(lines, list) or generated_at is None:
            raise ValueError("stored forecast text is damaged")
        return cls(
            lines=[str(line) for line in lines],
            source=str(data.get("source", SOURCE_OPENAI)),
            generated_at=generated_at,
            fingerprint=data.get("fingerprint"),
            window_start=_parse(data.get("window_start")),
            window_end=_parse(data.get("window_end")),
            forecast_type=data.get("forecast_type"),
            model=data.get("model"),
            tokens=TokenUsage.from_dict(data["tokens"]) if data.get("tokens") else None,
            error=data.get("error"),
        )


def _iso(value: datetime | None) -> str | None:
    """Return a datetime as ISO text, keeping None."""
    return value.isoformat() if value else None


def _parse(value: Any) -> datetime | None:
    """Return a stored ISO datetime, or None."""
    return dt_util.parse_datetime(value) if isinstance(value, str) else None


def create_client(
    api_key: str, *, http_client: httpx.AsyncClient, base_url: str | None = None
) -> openai.AsyncOpenAI:
    """Return an OpenAI client that never retries on its own."""
    return openai.AsyncOpenAI(
        api_key=api_key,
        base_url=base_url or None,
        # Newer openai releases type this as httpx2 yet accept an httpx client.
        http_client=cast(Any, http_client),
        max_retries=0,
    )


async def async_create_client(
    hass: HomeAssistant,
    api_key: str,
    *,
    base_url: str | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> openai.AsyncOpenAI:
    """Return an OpenAI client on Home Assistant's shared HTTP client."""
    client = create_client(
        api_key,
        http_client=http_client or get_async_client(hass),
        base_url=base_url,
    )
    # The platform lookup reads files; run it once off the loop, it is cached.
    await hass.async_add_executor_job(client.platform_headers)
    return client


def _map_error(err: openai.OpenAIError) -> WriterError:
    """Return the writer error for an OpenAI error, without the server's text."""
    if isinstance(err, openai.AuthenticationError):
        return WriterAuthError("OpenAI refused the API key (HTTP 401)")
    if isinstance(err, openai.RateLimitError) and "insufficient_quota" in (
        err.code,
        err.type,
    ):
        return WriterQuotaError("OpenAI account has no credit left (HTTP 429)")
    if isinstance(err, openai.APITimeoutError):
        return WriterUnavailable("OpenAI did not answer in time")
    if isinstance(err, openai.APIConnectionError):
        return WriterUnavailable("OpenAI could not be reached")
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        if status >= 500 or status == 429 or status in _RETRYABLE_STATUS:
            return WriterUnavailable(f"OpenAI failed (HTTP {status})")
        return WriterRejected(f"OpenAI refused the request (HTTP {status})")
    return WriterUnavailable(f"OpenAI failed ({type(err).__name__})")


async def async_validate_key(
    client: openai.AsyncOpenAI, *, timeout_s: float = VALIDATE_TIMEOUT_S
) -> None:
    """Send one cheap request to prove the key works; raise a WriterError if not."""
    try:
        # Awaiting the paginator sends the request; calling list() alone does not.
        await client.models.list(timeout=timeout_s)
    except openai.OpenAIError as err:
        raise _map_error(err) from None


def is_reasoning_model(model: str) -> bool:
    """Return whether a model thinks before answering and refuses temperature."""
    return bool(_REASONING_MODEL.match(model.lower().rsplit("/", 1)[-1]))


def _row_label(window: ForecastWindow, when: datetime) -> str:
    """Return a short local time label for one forecast row."""
    local = dt_util.as_local(when)
    if window.forecast_type == "hourly":
        return local.strftime("%H")
    return local.strftime("%a %H:%M")


def _round(value: float | None) -> float | None:
    """Return a value rounded to one decimal for a compact prompt."""
    return None if value is None else round(value, 1)


def compact_forecast(window: ForecastWindow) -> dict[str, Any]:
    """Return the window as a compact table for the prompt."""
    local_start = dt_util.as_local(window.start)
    return {
        "from": local_start.strftime("%a %H:%M"),
        "to": dt_util.as_local(window.end).strftime("%a %H:%M"),
        "step": window.forecast_type,
        "units": {
            "temp": window.temperature_unit,
            "precip": window.precipitation_unit,
            "wind": window.wind_speed_unit,
        },
        "cols": ["time", "sky", "temp", "low", "precip", "precip_pct", "wind", "gust"],
        "rows": [
            [
                _row_label(window, point.time),
                point.condition,
                _round(point.temperature),
                _round(point.templow),
                _round(point.precipitation),
                _round(point.precipitation_probability),
                _round(point.wind_speed),
                _round(point.wind_gust_speed),
            ]
            for point in window.points
        ],
    }


def build_messages(
    window: ForecastWindow, request: WriterRequest
) -> list[dict[str, str]]:
    """Return the chat messages that ask for the forecast text."""
    language = LANGUAGE_NAMES.get(request.language.lower(), request.language)
    budget = request.budget
    system = (
        "You write the weather text for a small e-paper screen on a house's "
        "front door; people glance at it on the way out. "
        f"Write in {language}. Hard limit: at most {budget.lines} lines of at "
        f"most {budget.chars} characters each; shorter is better. Plain text "
        "only: no markdown, no lists, no emoji. Use only the data given. Times "
        "are local 24-hour clock. Say whether and when rain or snow comes or "
        "stops, the temperature range with its unit, and the wind if it matters."
    )
    user = "Forecast (JSON):\n" + json.dumps(
        compact_forecast(window), ensure_ascii=False, separators=(",", ":")
    )
    instructions = request.instructions.strip()[:MAX_INSTRUCTIONS_CHARS]
    if instructions:
        user += f"\nHousehold's wishes (keep the limits): {instructions}"
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
    ]


def _refused_param(err: openai.BadRequestError, sent: Mapping[str, Any]) -> str | None:
    """Return the optional field a 400 answer complains about, if any."""
    if not _UNSUPPORTED.search(f"{err.code} {err.message}"):
        return None
    if err.param in _OPTIONAL_PARAMS and err.param in sent:
        return err.param
    return next((p for p in _OPTIONAL_PARAMS if p in sent and p in err.message), None)


class OpenAIWriter:
    """Ask one model for forecast text, retrying what is worth retrying."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        model: str = DEFAULT_MODEL,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff_s: Sequence[float] = RETRY_BACKOFF_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Keep the client and how to use it."""
        self.client = client
        self.model = model
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = tuple(backoff_s) or (0.0,)
        self._sleep = sleep
        # Fields this model refused once are not sent again.
        self._refused: set[str] = set()

    def _arguments(
        self, window: ForecastWindow, request: WriterRequest
    ) -> dict[str, Any]:
        """Return the request fields for this model."""
        reasoning = is_reasoning_model(self.model)
        arguments: dict[str, Any] = {
            "model": self.model,
            "messages": build_messages(window, request),
            "store": False,
            "max_completion_tokens": (
                MAX_OUTPUT_TOKENS_REASONING if reasoning else MAX_OUTPUT_TOKENS
            ),
        }
        if reasoning:
            arguments["reasoning_effort"] = "low"
        else:
            arguments["temperature"] = SAMPLING_TEMPERATURE
        for name in self._refused:
            arguments.pop(name, None)
        return arguments

    async def _async_request(self, arguments: dict[str, Any]) -> Any:
        """Send the request, dropping refused fields and retrying passing faults."""
        attempt = 0
        while True:
            try:
                return await self.client.chat.completions.create(
                    **arguments, timeout=self.timeout_s
                )
            except openai.BadRequestError as err:
                refused = _refused_param(err, arguments)
                if refused is None:
                    raise _map_error(err) from None
                _LOGGER.debug(
                    "Model %s refuses %s, asking without it", self.model, refused
                )
                self._refused.add(refused)
                arguments.pop(refused)
            except openai.OpenAIError as err:
                mapped = _map_error(err)
                if not isinstance(mapped, WriterUnavailable) or attempt >= self.retries:
                    raise mapped from None
                delay = self.backoff_s[min(attempt, len(self.backoff_s) - 1)]
                attempt += 1
                _LOGGER.debug("%s; retry %d in %.1f s", mapped, attempt, delay)
                await self._sleep(delay)

    async def async_compose(
        self, window: ForecastWindow, request: WriterRequest
    ) -> OpenAIAnswer:
        """Return fitted forecast text from the model, or raise a WriterError."""
        response = await self._async_request(self._arguments(window, request))
        choices = getattr(response, "choices", None) or []
        content = choices[0].message.content if choices else None
        if not isinstance(content, str) or not content.strip():
            raise WriterBadAnswer("OpenAI answered with no text")
        try:
            lines = fit_text(content, request.budget)
        except UnusableTextError:
            raise WriterBadAnswer("OpenAI answered with no readable text") from None
        usage = getattr(response, "usage", None)
        tokens = TokenUsage(
            prompt=getattr(usage, "prompt_tokens", 0) or 0,
            completion=getattr(usage, "completion_tokens", 0) or 0,
            total=getattr(usage, "total_tokens", 0) or 0,
        )
        model = getattr(response, "model", None) or self.model
        return OpenAIAnswer(lines=lines, model=str(model), tokens=tokens)


def cache_key(fingerprint_: str, request: WriterRequest, model: str) -> str:
    """Return the key under which identical requests share one text."""
    material = json.dumps(
        [
            fingerprint_,
            request.budget.lines,
            request.budget.chars,
            request.language.lower(),
            model,
            request.instructions.strip(),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


@dataclass
class _Counters:
    """Usage counters that survive restarts."""

    day: str = ""
    calls_today: int = 0
    calls_total: int = 0
    skipped_total: int = 0
    capped_total: int = 0
    failures_total: int = 0
    tokens: TokenUsage = field(default_factory=TokenUsage)


class ForecastWriter:
    """Decide when to ask OpenAI, share texts between boards, fall back locally."""

    def __init__(
        self,
        openai_writer: OpenAIWriter | None = None,
        *,
        daily_cap: int = DEFAULT_DAILY_CAP,
        max_age: timedelta = DEFAULT_MAX_AGE,
        state: Mapping[str, Any] | None = None,
        now: Callable[[], datetime] = dt_util.now,
    ) -> None:
        """Start from stored state, if any."""
        self._openai = openai_writer
        self.daily_cap = daily_cap
        self.max_age = max_age
        self._now = now
        self._lock = asyncio.Lock()
        self._counters = _Counters()
        self._texts: dict[str, ForecastResult] = {}
        self._last_failure: dict[str, str] | None = None
        if state:
            self._load(state)

    @property
    def openai_writer(self) -> OpenAIWriter | None:
        """Return the OpenAI writer in use, or None when OpenAI is off."""
        return self._openai

    @openai_writer.setter
    def openai_writer(self, value: OpenAIWriter | None) -> None:
        """Use a new OpenAI writer, for example after the key was replaced."""
        self._openai = value
        self._last_failure = None

    def _load(self, state: Mapping[str, Any]) -> None:
        """Restore counters and cached texts, skipping whatever is damaged."""
        if state.get("version") != STATE_VERSION:
            return
        counters = self._counters
        counters.day = str(state.get("day", ""))
        for name in (
            "calls_today",
            "calls_total",
            "skipped_total",
            "capped_total",
            "failures_total",
        ):
            value = state.get(name)
            if isinstance(value, int):
                setattr(counters, name, value)
        counters.tokens = TokenUsage.from_dict(state.get("tokens"))
        texts = state.get("texts")
        if isinstance(texts, Mapping):
            for key, data in texts.items():
                try:
                    self._texts[str(key)] = ForecastResult.from_dict(data)
                except (ValueError, TypeError, AttributeError):
                    continue
        failure = state.get("last_failure")
        if isinstance(failure, Mapping) and {"key", "reason", "at"} <= set(failure):
            self._last_failure = {k: str(failure[k]) for k in ("key", "reason", "at")}

    def as_dict(self) -> dict[str, Any]:
        """Return the state to persist: counters and the latest OpenAI texts."""
        counters = self._counters
        return {
            "version": STATE_VERSION,
            "day": counters.day,
            "calls_today": counters.calls_today,
            "calls_total": counters.calls_total,
            "skipped_total": counters.skipped_total,
            "capped_total": counters.capped_total,
            "failures_total": counters.failures_total,
            "tokens": counters.tokens.as_dict(),
            "texts": {key: result.as_dict() for key, result in self._texts.items()},
            "last_failure": dict(self._last_failure) if self._last_failure else None,
        }

    @property
    def stats(self) -> dict[str, Any]:
        """Return the usage figures for sensors and diagnostics."""
        counters = self._counters
        return {
            "calls_today": counters.calls_today,
            "daily_cap": self.daily_cap,
            "calls_total": counters.calls_total,
            "skipped_total": counters.skipped_total,
            "capped_total": counters.capped_total,
            "failures_total": counters.failures_total,
            "tokens": counters.tokens.as_dict(),
            "last_error": self._last_failure["reason"] if self._last_failure else None,
        }

    def _roll_day(self, now: datetime) -> None:
        """Reset the daily call count at local midnight."""
        today = dt_util.as_local(now).date().isoformat()
        if self._counters.day != today:
            self._counters.day = today
            self._counters.calls_today = 0

    def _local(
        self,
        window: ForecastWindow,
        request: WriterRequest,
        fingerprint_: str,
        now: datetime,
        error: str | None,
    ) -> ForecastResult:
        """Return the local summary for the window."""
        return ForecastResult(
            lines=local_lines(window, request.language, request.budget),
            source=SOURCE_LOCAL,
            generated_at=now,
            fingerprint=fingerprint_,
            window_start=window.start,
            window_end=window.end,
            forecast_type=window.forecast_type,
            error=error,
        )

    def unavailable_result(self, request: WriterRequest) -> ForecastResult:
        """Return the notice to show when the weather entity gives no forecast."""
        return ForecastResult(
            lines=unavailable_lines(request.language, request.budget),
            source=SOURCE_LOCAL,
            generated_at=self._now(),
            fingerprint=None,
            error=REASON_FORECAST_UNAVAILABLE,
        )

    def _recent_failure(self, key: str, now: datetime) -> str | None:
        """Return why this same request failed a short while ago, if it did."""
        failure = self._last_failure
        if failure is None or failure["key"] != key:
            return None
        failed_at = dt_util.parse_datetime(failure["at"])
        if failed_at is None or now - failed_at >= FAILURE_BACKOFF:
            return None
        return failure["reason"]

    def _remember(self, key: str, result: ForecastResult) -> None:
        """Keep a new text, dropping the oldest beyond the cache size."""
        self._texts[key] = result
        if len(self._texts) > MAX_CACHED_TEXTS:
            newest = sorted(
                self._texts.items(),
                key=lambda item: item[1].generated_at,
                reverse=True,
            )
            self._texts = dict(newest[:MAX_CACHED_TEXTS])

    async def async_write(
        self, window: ForecastWindow, request: WriterRequest, *, force: bool = False
    ) -> ForecastResult:
        """Return the text for a board, asking OpenAI only when it is worth it."""
        async with self._lock:
            now = self._now()
            self._roll_day(now)
            fingerprint_ = fingerprint(window)
            writer = self._openai
            if writer is None:
                return self._local(window, request, fingerprint_, now, None)

            key = cache_key(fingerprint_, request, writer.model)
            cached = self._texts.get(key)
            if cached and not force and now - cached.generated_at < self.max_age:
                self._counters.skipped_total += 1
                return replace(cached, cached=True)

            if not force and (reason := self._recent_failure(key, now)):
                self._counters.skipped_total += 1
                return self._local(window, request, fingerprint_, now, reason)

            if self._counters.calls_today >= self.daily_cap:
                self._counters.capped_total += 1
                return self._local(window, request, fingerprint_, now, REASON_DAILY_CAP)

            self._counters.calls_today += 1
            self._counters.calls_total += 1
            try:
                answer = await writer.async_compose(window, request)
            except WriterError as err:
                self._counters.failures_total += 1
                if self._last_failure is None:
                    _LOGGER.info("Using the local forecast summary: %s", err)
                self._last_failure = {
                    "key": key,
                    "reason": err.reason,
                    "at": now.isoformat(),
                }
                return self._local(window, request, fingerprint_, now, err.reason)

            if self._last_failure is not None:
                _LOGGER.info("OpenAI forecast text is available again")
                self._last_failure = None
            self._counters.tokens += answer.tokens
            result = ForecastResult(
                lines=answer.lines,
                source=SOURCE_OPENAI,
                generated_at=now,
                fingerprint=fingerprint_,
                window_start=window.start,
                window_end=window.end,
                forecast_type=window.forecast_type,
                model=answer.model,
                tokens=answer.tokens,
            )
            self._remember(key, result)
            return result
