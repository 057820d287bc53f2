"""The hub: receives board messages, counts door events exactly once, keeps state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
import logging
from typing import Any

from homeassistant.components import mqtt
from homeassistant.components.mqtt.models import ReceiveMessage
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BASE_TOPIC,
    DEFAULT_BASE_TOPIC,
    DEFAULT_INTERVAL_S,
    DISPLAY_COALESCE_S,
    DOMAIN,
    MIN_FIRMWARE,
    SIGNAL_BOARD_UPDATED,
    SIGNAL_DOOR_EVENTS,
    SIGNAL_NEW_BOARD,
    SILENCE_CHECK_INTERVAL_S,
    SILENT_AFTER_INTERVALS,
    SILENT_ISSUE_AFTER_S,
    STORE_SAVE_DELAY_S,
    STORE_VERSION,
)
from .display import DisplayContent, content_id, display_payload
from .protocol import (
    TOPIC_EVENTS,
    TOPIC_STATE,
    DeviceState,
    EventBatch,
    RejectedMessage,
    Rejection,
    ScreenBudget,
    decode_events,
    decode_state,
    display_topic,
    firmware_tuple,
    parse_topic,
    topic_filters,
)
from .sequence import SequenceWindow

_LOGGER = logging.getLogger(__name__)

# Board clocks before this are unset, not real (2024-01-01T00:00:00Z).
_EARLIEST_BOARD_TIME_S = 1_704_067_200
_INVALID_DEVICE = "<invalid device id>"

type TextProvider = Callable[[Board], tuple[list[str], str]]
type CountedListener = Callable[[Board, list[CountedEvent]], None]


@dataclass(frozen=True, slots=True)
class CountedEvent:
    """A door event that was counted, with the time it is dated by."""

    gen: int
    seq: int
    when: datetime
    board_ts: int | None


@dataclass
class Board:
    """Everything Home Assistant knows about one MagTag."""

    device_id: str
    total: int = 0
    today: int = 0
    today_date: str | None = None
    last_event: datetime | None = None
    last_seen: datetime | None = None
    state: DeviceState | None = None
    window: SequenceWindow = field(default_factory=SequenceWindow)
    duplicates: int = 0
    silent: bool = False
    published_id: str | None = None

    @property
    def interval_s(self) -> int:
        """Return the board's timer interval, or the default before it said."""
        return self.state.interval_s if self.state else DEFAULT_INTERVAL_S

    @property
    def budget(self) -> ScreenBudget:
        """Return the board's announced screen budget (a safe default before)."""
        return self.state.screen if self.state else ScreenBudget(5, 24)

    def as_dict(self) -> dict[str, Any]:
        """Serialise for the store."""
        state = self.state
        return {
            "total": self.total,
            "today": self.today,
            "today_date": self.today_date,
            "last_event": self.last_event.isoformat() if self.last_event else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "window": self.window.as_dict(),
            "duplicates": self.duplicates,
            "state": None
            if state is None
            else {
                "fw": state.firmware,
                "battery_v": state.battery_v,
                "rssi": state.rssi,
                "wake": state.wake,
                "error": state.error,
                "lines": state.screen.lines,
                "chars": state.screen.chars,
                "interval_s": state.interval_s,
                "backlog": state.backlog,
            },
        }

    @classmethod
    def from_dict(cls, device_id: str, data: dict[str, Any]) -> Board:
        """Rebuild a board from the store."""
        raw_state = data.get("state")
        state = None
        if raw_state:
            state = DeviceState(
                firmware=raw_state["fw"],
                battery_v=raw_state["battery_v"],
                rssi=raw_state["rssi"],
                wake=raw_state["wake"],
                error=raw_state["error"],
                screen=ScreenBudget(raw_state["lines"], raw_state["chars"]),
                interval_s=raw_state["interval_s"],
                backlog=raw_state["backlog"],
            )
        return cls(
            device_id=device_id,
            total=data["total"],
            today=data["today"],
            today_date=data["today_date"],
            last_event=_parse_time(data.get("last_event")),
            last_seen=_parse_time(data.get("last_seen")),
            state=state,
            window=SequenceWindow.from_dict(data["window"]),
            duplicates=data.get("duplicates", 0),
        )


def _parse_time(value: str | None) -> datetime | None:
    """Parse an ISO timestamp from the store."""
    return dt_util.parse_datetime(value) if value else None


class PorterCoordinator:
    """Own the MQTT subscriptions, the boards and their persisted counts."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Prepare an empty hub for a config entry."""
        self.hass = hass
        self.entry = entry
        self.base_topic: str = entry.data.get(CONF_BASE_TOPIC, DEFAULT_BASE_TOPIC)
        self.boards: dict[str, Board] = {}
        self.rejections: dict[str, Counter[str]] = {}
        self._logged_rejections: set[tuple[str, str]] = set()
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, f"{DOMAIN}.{entry.entry_id}"
        )
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self.text_provider: TextProvider | None = None
        self._display_debouncers: dict[str, Debouncer[None]] = {}
        self.counted_listeners: list[CountedListener] = []

    async def async_load(self) -> None:
        """Restore boards and counts saved before the last stop."""
        stored = await self._store.async_load() or {}
        for device_id, data in stored.get("boards", {}).items():
            self.boards[device_id] = Board.from_dict(device_id, data)
        self._roll_today(dt_util.now())

    async def async_start(self) -> None:
        """Subscribe to the board topics and start the clocks."""
        for topic in topic_filters(self.base_topic):
            self._unsubscribers.append(
                await mqtt.async_subscribe(
                    self.hass, topic, self._handle_message, qos=1, encoding=None
                )
            )
            _LOGGER.debug("Entry %s subscribed to %s", self.entry.entry_id, topic)
        self._unsubscribers.append(
            async_track_time_interval(
                self.hass,
                self._check_silence,
                timedelta(seconds=SILENCE_CHECK_INTERVAL_S),
            )
        )
        self._unsubscribers.append(
            async_track_time_change(
                self.hass, self._at_midnight, hour=0, minute=0, second=0
            )
        )

    async def async_stop(self) -> None:
        """Unsubscribe and write the counts to disk now."""
        while self._unsubscribers:
            self._unsubscribers.pop()()
        for debouncer in self._display_debouncers.values():
            debouncer.async_shutdown()
        await self._store.async_save(self._as_store())

    def _as_store(self) -> dict[str, Any]:
        """Return the data to persist."""
        return {
            "boards": {
                device_id: board.as_dict() for device_id, board in self.boards.items()
            }
        }

    @callback
    def _schedule_save(self) -> None:
        """Persist soon; a stop or unload writes at once."""
        self._store.async_delay_save(self._as_store, STORE_SAVE_DELAY_S)

    @callback
    def _handle_message(self, msg: ReceiveMessage) -> None:
        """Route one MQTT message; never raise."""
        payload = msg.payload
        if isinstance(payload, str):
            payload = payload.encode()
        device_id = _INVALID_DEVICE
        try:
            device_id, kind = parse_topic(self.base_topic, msg.topic)
            if kind == TOPIC_EVENTS:
                self._handle_events(device_id, decode_events(payload))
            elif kind == TOPIC_STATE:
                self._handle_state(device_id, decode_state(payload))
        except RejectedMessage as err:
            self._reject(device_id, err.kind, err.reason)

    @callback
    def _reject(self, device_id: str, kind: Rejection, reason: str) -> None:
        """Count a dropped message; log only its first occurrence per device."""
        self.rejections.setdefault(device_id, Counter())[kind.value] += 1
        if (device_id, kind.value) in self._logged_rejections:
            return
        self._logged_rejections.add((device_id, kind.value))
        _LOGGER.warning(
            "Dropped a message from %s (%s: %s); further ones of this kind are "
            "only counted in diagnostics",
            device_id,
            kind.value,
            reason,
        )

    @callback
    def _board(self, device_id: str) -> Board:
        """Return a board, creating it (and its entities) on first contact."""
        if (board := self.boards.get(device_id)) is None:
            board = self.boards[device_id] = Board(device_id)
            async_dispatcher_send(
                self.hass,
                SIGNAL_NEW_BOARD.format(entry_id=self.entry.entry_id),
                board,
            )
        return board

    @callback
    def _seen(self, board: Board, now: datetime) -> None:
        """Record contact; a silent board that talks again is back."""
        board.last_seen = now
        if board.silent:
            board.silent = False
            _LOGGER.info("Board %s is reporting again", board.device_id)
            ir.async_delete_issue(self.hass, DOMAIN, f"board_silent_{board.device_id}")

    @callback
    def _handle_events(self, device_id: str, batch: EventBatch) -> None:
        """Count every event of a batch that was not counted before."""
        now = dt_util.utcnow()
        board = self._board(device_id)
        self._roll_today(dt_util.now())
        today = dt_util.now().date()
        counted: list[CountedEvent] = []
        for event in sorted(batch.events, key=lambda e: e.seq):
            if not board.window.accept(batch.gen, event.seq):
                board.duplicates += 1
                continue
            when = _event_time(event.ts, now)
            counted.append(CountedEvent(batch.gen, event.seq, when, event.ts))
            board.total += 1
            if dt_util.as_local(when).date() == today:
                board.today += 1
            if board.last_event is None or when > board.last_event:
                board.last_event = when
        self._seen(board, now)
        self._schedule_save()
        self._notify(board)
        if counted:
            async_dispatcher_send(
                self.hass,
                SIGNAL_DOOR_EVENTS.format(
                    entry_id=self.entry.entry_id, device_id=device_id
                ),
                counted,
            )
            for listener in self.counted_listeners:
                listener(board, counted)
            self.async_publish_display(board)

    @callback
    def _handle_state(self, device_id: str, state: DeviceState) -> None:
        """Take a state message: battery, signal, budget, errors."""
        board = self._board(device_id)
        budget_changed = board.state is None or board.state.screen != state.screen
        board.state = state
        self._seen(board, dt_util.utcnow())
        self._check_firmware(board)
        self._schedule_save()
        self._notify(board)
        if budget_changed or board.published_id is None:
            self.async_publish_display(board)

    @callback
    def _check_firmware(self, board: Board) -> None:
        """Raise a repair issue for firmware older than the contract needs."""
        assert board.state is not None
        version = firmware_tuple(board.state.firmware)
        issue_id = f"firmware_outdated_{board.device_id}"
        if version is not None and version < MIN_FIRMWARE:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="firmware_outdated",
                translation_placeholders={
                    "device_id": board.device_id,
                    "version": board.state.firmware,
                    "minimum": ".".join(str(part) for part in MIN_FIRMWARE),
                },
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    @callback
    def _notify(self, board: Board) -> None:
        """Tell the board's entities to write their state."""
        async_dispatcher_send(
            self.hass,
            SIGNAL_BOARD_UPDATED.format(
                entry_id=self.entry.entry_id, device_id=board.device_id
            ),
        )

    @callback
    def _roll_today(self, now: datetime) -> bool:
        """Reset every board's 'today' count when the local date moved on."""
        date = now.date().isoformat()
        rolled = False
        for board in self.boards.values():
            if board.today_date != date:
                if board.today_date is not None and board.today:
                    rolled = True
                board.today = 0
                board.today_date = date
        return rolled

    @callback
    def _at_midnight(self, now: datetime) -> None:
        """Start a new day: zero the daily counts and update the displays."""
        self._roll_today(dt_util.as_local(now))
        self._schedule_save()
        for board in self.boards.values():
            self._notify(board)
            self.async_publish_display(board)

    @callback
    def _check_silence(self, now: datetime) -> None:
        """Mark boards silent far beyond their timer; log once each way."""
        for board in self.boards.values():
            if board.last_seen is None:
                continue
            quiet_s = (now - board.last_seen).total_seconds()
            if not board.silent and quiet_s > SILENT_AFTER_INTERVALS * board.interval_s:
                board.silent = True
                _LOGGER.info(
                    "Board %s has not reported for %d minutes",
                    board.device_id,
                    quiet_s // 60,
                )
                self._notify(board)
            if board.silent and quiet_s > SILENT_ISSUE_AFTER_S:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    f"board_silent_{board.device_id}",
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="board_silent",
                    translation_placeholders={
                        "device_id": board.device_id,
                        "days": str(int(quiet_s // 86400)),
                    },
                )

    @callback
    def display_content(self, board: Board) -> DisplayContent:
        """Return what a board should show right now."""
        lines: list[str] = []
        source = "local"
        if self.text_provider is not None:
            lines, source = self.text_provider(board)
        return DisplayContent(
            lines=tuple(lines),
            source=source,
            today=board.today,
            total=board.total,
            seq=board.window.highest if board.window.highest >= 0 else None,
            gen=board.window.gen,
        )

    @callback
    def async_publish_display(self, board: Board) -> None:
        """Publish the board's display message soon; bursts publish once."""
        if (debouncer := self._display_debouncers.get(board.device_id)) is None:
            debouncer = self._display_debouncers[board.device_id] = Debouncer(
                self.hass,
                _LOGGER,
                cooldown=DISPLAY_COALESCE_S,
                immediate=True,
                function=partial(self._publish_display_now, board.device_id),
            )
        debouncer.async_schedule_call()

    @callback
    def _publish_display_now(self, device_id: str) -> None:
        """Publish the board's retained display message when its content changed."""
        if (board := self.boards.get(device_id)) is None:
            return
        content = self.display_content(board)
        new_id = content_id(content)
        if new_id == board.published_id:
            return
        board.published_id = new_id
        payload = display_payload(content, dt_util.now())
        self.entry.async_create_background_task(
            self.hass,
            self._publish(display_topic(self.base_topic, board.device_id), payload),
            f"{DOMAIN} display {board.device_id}",
        )

    async def _publish(self, topic: str, payload: str) -> None:
        """Publish retained with QoS 1; a broker problem is logged, not raised."""
        try:
            await mqtt.async_publish(self.hass, topic, payload, qos=1, retain=True)
        except HomeAssistantError as err:
            _LOGGER.warning("Could not publish to %s: %s", topic, err)

    @callback
    def async_reset_counter(self, device_id: str) -> None:
        """Set a board's counts to zero; counted sequences stay counted."""
        board = self.boards[device_id]
        board.total = 0
        board.today = 0
        self._schedule_save()
        self._notify(board)
        self.async_publish_display(board)

    async def async_remove_board(self, device_id: str) -> None:
        """Forget a board and clear its retained display message."""
        if self.boards.pop(device_id, None) is None:
            return
        self.rejections.pop(device_id, None)
        self._schedule_save()
        for issue in ("board_silent", "firmware_outdated"):
            ir.async_delete_issue(self.hass, DOMAIN, f"{issue}_{device_id}")
        await self._publish(display_topic(self.base_topic, device_id), "")


def _event_time(board_ts: int | None, received: datetime) -> datetime:
    """Date an event by the board's clock when it is plausible, else by receipt."""
    if board_ts is None:
        return received
    if _EARLIEST_BOARD_TIME_S <= board_ts <= received.timestamp() + 300:
        return dt_util.utc_from_timestamp(board_ts)
    return received
