"""Keep every board's display text current: forecast, fallback or a message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BASE_URL,
    CONF_DAILY_CAP,
    CONF_INSTRUCTIONS,
    CONF_LANGUAGE,
    CONF_MESSAGE_MIN,
    CONF_MODEL,
    CONF_REFRESH_MIN,
    CONF_TIMEOUT_S,
    CONF_WEATHER_ENTITY,
    DEFAULT_MESSAGE_MIN,
    DEFAULT_REFRESH_MIN,
    DOMAIN,
    LANGUAGE_AUTO,
    SIGNAL_TEXT_UPDATED,
    STORE_VERSION,
    WEATHER_SETTLE_S,
)
from .coordinator import Board, PorterCoordinator
from .fitting import Budget, fit_text
from .forecast import ForecastUnavailable, async_get_forecast_window
from .writer import (
    DEFAULT_DAILY_CAP,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT_S,
    REASON_AUTH,
    REASON_QUOTA,
    ForecastResult,
    ForecastWriter,
    OpenAIWriter,
    WriterRequest,
    async_create_client,
)

_LOGGER = logging.getLogger(__name__)

SOURCE_MESSAGE = "message"
QUOTA_ISSUE = "openai_quota"


@dataclass(frozen=True, slots=True)
class DisplayMessage:
    """A custom message shown instead of the forecast until it expires."""

    lines: list[str]
    until: datetime


def first_weather_entity(hass: HomeAssistant) -> str | None:
    """Return the first weather entity, the default forecast source."""
    entity_ids = sorted(hass.states.async_entity_ids("weather"))
    return entity_ids[0] if entity_ids else None


class ForecastService:
    """Fetch the forecast, have it written per board budget, and show it."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        coordinator: PorterCoordinator,
    ) -> None:
        """Read the entry's forecast settings."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        options = entry.options
        self.weather_entity: str | None = options.get(CONF_WEATHER_ENTITY)
        self.refresh = timedelta(
            minutes=options.get(CONF_REFRESH_MIN, DEFAULT_REFRESH_MIN)
        )
        self.message_duration = timedelta(
            minutes=options.get(CONF_MESSAGE_MIN, DEFAULT_MESSAGE_MIN)
        )
        self.results: dict[str, ForecastResult] = {}
        self._result_budgets: dict[str, Budget] = {}
        self.messages: dict[str, DisplayMessage] = {}
        self.writer = ForecastWriter(
            daily_cap=options.get(CONF_DAILY_CAP, DEFAULT_DAILY_CAP)
        )
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, f"{DOMAIN}.{entry.entry_id}.forecast"
        )
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._refresher = Debouncer(
            hass,
            _LOGGER,
            cooldown=WEATHER_SETTLE_S,
            immediate=False,
            function=self.async_refresh,
        )
        self._reauth_started = False
        self._weather_followed = False
        self.text_listeners: list[Callable[[Board, ForecastResult], None]] = []

    @property
    def language(self) -> str:
        """Return the text language: the option, or Home Assistant's own."""
        chosen = self.entry.options.get(CONF_LANGUAGE, LANGUAGE_AUTO)
        if chosen != LANGUAGE_AUTO:
            return str(chosen)
        return "sv" if self.hass.config.language.startswith("sv") else "en"

    async def async_start(self) -> None:
        """Restore the writer's state, connect OpenAI and start refreshing."""
        stored = await self._store.async_load()
        self.writer = ForecastWriter(
            daily_cap=self.writer.daily_cap, state=(stored or {}).get("writer")
        )
        if api_key := self.entry.data.get(CONF_API_KEY):
            client = await async_create_client(
                self.hass, api_key, base_url=self.entry.options.get(CONF_BASE_URL)
            )
            self.writer.openai_writer = OpenAIWriter(
                client,
                model=self.entry.options.get(CONF_MODEL) or DEFAULT_MODEL,
                timeout_s=self.entry.options.get(CONF_TIMEOUT_S, DEFAULT_TIMEOUT_S),
            )
        self.coordinator.text_provider = self.text_for
        self._unsubscribers.append(
            async_track_time_interval(self.hass, self._scheduled, self.refresh)
        )
        self._unsubscribers.append(async_at_started(self.hass, self._started))

    async def async_stop(self) -> None:
        """Stop refreshing and save the writer's state."""
        while self._unsubscribers:
            self._unsubscribers.pop()()
        self._refresher.async_shutdown()
        self.coordinator.text_provider = None
        await self._store.async_save({"writer": self.writer.as_dict()})

    async def _started(self, hass: HomeAssistant) -> None:
        """Write the first texts once Home Assistant runs."""
        await self.async_refresh()

    async def _scheduled(self, now: datetime) -> None:
        """Refresh on the timer."""
        await self.async_refresh()

    @callback
    def _weather_changed(self, event: Event[Any]) -> None:
        """Refresh after the weather entity settles."""
        self._refresher.async_schedule_call()

    def _request(self, board: Board) -> WriterRequest:
        """Return what the writer needs for one board."""
        return WriterRequest(
            budget=board.budget,
            language=self.language,
            instructions=self.entry.options.get(CONF_INSTRUCTIONS, ""),
        )

    @callback
    def _follow_weather(self) -> None:
        """Pick the weather entity (the first one by default) and follow it."""
        if self._weather_followed:
            return
        self.weather_entity = self.weather_entity or first_weather_entity(self.hass)
        if self.weather_entity:
            self._weather_followed = True
            self._unsubscribers.append(
                async_track_state_change_event(
                    self.hass, [self.weather_entity], self._weather_changed
                )
            )

    async def async_refresh(self, *, force: bool = False) -> None:
        """Write the text for every board and publish what changed."""
        self._follow_weather()
        window = None
        if self.weather_entity:
            try:
                window = await async_get_forecast_window(self.hass, self.weather_entity)
            except ForecastUnavailable as err:
                _LOGGER.debug("No forecast: %s", err)
        for board in list(self.coordinator.boards.values()):
            request = self._request(board)
            if window is None:
                result = self.writer.unavailable_result(request)
            else:
                result = await self.writer.async_write(window, request, force=force)
            previous = self.results.get(board.device_id)
            self.results[board.device_id] = result
            self._result_budgets[board.device_id] = request.budget
            if previous is None or previous.lines != result.lines:
                for listener in self.text_listeners:
                    listener(board, result)
            self._react_to(result)
            self._text_changed(board)
        self._store.async_delay_save(lambda: {"writer": self.writer.as_dict()}, 5)

    @callback
    def _react_to(self, result: ForecastResult) -> None:
        """Turn writer failures the user can fix into reauth or a repair issue."""
        if result.error == REASON_AUTH and not self._reauth_started:
            self._reauth_started = True
            self.entry.async_start_reauth(self.hass)
        if result.error == REASON_QUOTA:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                QUOTA_ISSUE,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="openai_quota",
                learn_more_url="https://platform.openai.com/settings/organization/billing",
            )
        elif result.source == "openai":
            ir.async_delete_issue(self.hass, DOMAIN, QUOTA_ISSUE)

    @callback
    def _text_changed(self, board: Board) -> None:
        """Publish the board's display and update its text entities."""
        self.coordinator.async_publish_display(board)
        async_dispatcher_send(
            self.hass,
            SIGNAL_TEXT_UPDATED.format(
                entry_id=self.entry.entry_id, device_id=board.device_id
            ),
        )

    @callback
    def text_for(self, board: Board) -> tuple[list[str], str]:
        """Return the lines a board shows now and where they come from."""
        message = self.messages.get(board.device_id)
        if message is not None:
            if message.until > dt_util.utcnow():
                return message.lines, SOURCE_MESSAGE
            del self.messages[board.device_id]
        result = self.results.get(board.device_id)
        if result is None or self._result_budgets.get(board.device_id) != board.budget:
            self._refresher.async_schedule_call()
            return [], "local"
        return result.lines, result.source

    @callback
    def show_message(
        self, board: Board, text: str, duration: timedelta | None = None
    ) -> None:
        """Show a custom message on a board until the duration is over."""
        lines = fit_text(text, board.budget)
        until = dt_util.utcnow() + (duration or self.message_duration)
        self.messages[board.device_id] = DisplayMessage(lines, until)
        self._text_changed(board)

        @callback
        def expire(now: datetime) -> None:
            self._text_changed(board)

        self._unsubscribers.append(
            async_track_point_in_utc_time(self.hass, expire, until)
        )
