"""Mirror counted door events and new forecast texts to AWS IoT Core.

The mirror keeps its own mutual-TLS MQTT connection (paho-mqtt, one network
thread per connection) and a bounded, persisted queue. A message leaves the
queue only when AWS acknowledged it (PUBACK), so an outage or a restart of Home
Assistant loses nothing; every paho callback hops into the event loop first.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import hashlib
import itertools
import json
import logging
import os
from pathlib import Path
import re
import ssl
import tempfile
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from .aws_certs import (
    CONF_AWS_CA,
    CONF_AWS_CERTIFICATE,
    CONF_AWS_PRIVATE_KEY,
    certificate_expiry,
    check_pems,
)
from .const import DOMAIN
from .protocol import valid_base_topic

if TYPE_CHECKING:
    from .coordinator import Board, CountedEvent

_LOGGER = logging.getLogger(__name__)

CONF_AWS_ENABLED: Final = "aws_enabled"
CONF_AWS_ENDPOINT: Final = "aws_endpoint"
CONF_AWS_PORT: Final = "aws_port"
CONF_AWS_THING: Final = "aws_thing"
CONF_AWS_TOPIC_PREFIX: Final = "aws_topic_prefix"
CONF_AWS_QUEUE_LIMIT: Final = "aws_queue_limit"

AWS_PORTS: Final = (8883, 443)
DEFAULT_AWS_PORT: Final = 8883
# On 443 AWS IoT tells MQTT from HTTPS by this ALPN protocol name.
ALPN_PORT: Final = 443
ALPN_PROTOCOL: Final = "x-amzn-mqtt-ca"
DEFAULT_TOPIC_PREFIX: Final = "iot_porter"
DEFAULT_QUEUE_LIMIT: Final = 5000
MAX_QUEUE_LIMIT: Final = 100_000

# AWS IoT Core limits; a message that breaks one is never sent.
MAX_QOS: Final = 1
MAX_PAYLOAD_BYTES: Final = 128 * 1024
MAX_TOPIC_BYTES: Final = 256
MAX_TOPIC_SLASHES: Final = 7
MIN_KEEPALIVE_S: Final = 30
MAX_KEEPALIVE_S: Final = 1200

KIND_DOOR: Final = "door"
KIND_FORECAST: Final = "forecast"
PAYLOAD_VERSION: Final = 1
QOS: Final = 1

ERROR_CERTIFICATE_REJECTED: Final = "certificate_rejected"
ERROR_SERVER_UNTRUSTED: Final = "server_untrusted"
ERROR_TLS: Final = "tls_error"
ERROR_UNREACHABLE: Final = "unreachable"
ERROR_CONNECTION_LOST: Final = "connection_lost"
ERROR_REFUSED: Final = "connection_refused"
ERROR_NO_ANSWER: Final = "no_answer"
ERROR_INVALID_CREDENTIALS: Final = "invalid_credentials"

ERROR_INVALID_ENDPOINT: Final = "invalid_endpoint"
ERROR_INVALID_PORT: Final = "invalid_port"
ERROR_INVALID_THING: Final = "invalid_thing_name"
ERROR_INVALID_TOPIC_PREFIX: Final = "invalid_topic_prefix"
ERROR_INVALID_QUEUE_LIMIT: Final = "invalid_queue_limit"

ISSUE_CERTIFICATE_REJECTED: Final = "aws_certificate_rejected"
ISSUE_CERTIFICATE_EXPIRING: Final = "aws_certificate_expiring"
EXPIRY_WARNING: Final = timedelta(days=30)

STORE_VERSION: Final = 1
SAVE_DELAY_S: Final = 2
# QoS 1 messages on the wire at once; AWS allows 100 unacknowledged per client.
SEND_WINDOW: Final = 10
KEEPALIVE_S: Final = 60
CONNECT_TIMEOUT_S: Final = 10.0
# A server that accepted TLS but never answers CONNECT is given up on.
CONNACK_TIMEOUT_S: Final = 30.0
RECONNECT_MIN_S: Final = 1.0
RECONNECT_MAX_S: Final = 120.0
# On stop, wait this long for outstanding PUBACKs so a restart resends nothing.
DRAIN_ON_STOP_S: Final = 2.0
# AWS closes the connection without a CONNACK when its policy refuses the
# client; a second such close in a row is taken as a rejection, not a blip.
CLOSES_BEFORE_REJECTED: Final = 2

_CLIENT_ID = re.compile(r"^[A-Za-z0-9_:-]{1,128}$")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ENDPOINT = re.compile(rf"^(?=.{{1,253}}$){_HOST_LABEL}(?:\.{_HOST_LABEL})*$")
# OpenSSL alerts a server sends when it does not accept the client certificate.
_REJECTION_ALERTS: Final = (
    "UNKNOWN_CA",
    "BAD_CERTIFICATE",
    "CERTIFICATE_REQUIRED",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_REVOKED",
    "CERTIFICATE_UNKNOWN",
    "UNSUPPORTED_CERTIFICATE",
    "ACCESS_DENIED",
    "HANDSHAKE_FAILURE",
)
# CONNACK refusals that mean "not this certificate"; AWS sends the
# non-standard code 7 for it, which paho reports as "Unspecified error".
_REFUSED_NAMES: Final = (
    "Not authorized",
    "Bad user name or password",
    "Unspecified error",
)

type StatusListener = Callable[[], None]


@dataclass(frozen=True, slots=True)
class AwsMirrorConfig:
    """Where and as whom the mirror connects, and how much it may hold."""

    endpoint: str
    thing: str
    certificate: str = field(repr=False)
    private_key: str = field(repr=False)
    ca: str = field(repr=False)
    port: int = DEFAULT_AWS_PORT
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    queue_limit: int = DEFAULT_QUEUE_LIMIT
    keepalive_s: int = KEEPALIVE_S
    reconnect_min_s: float = RECONNECT_MIN_S
    reconnect_max_s: float = RECONNECT_MAX_S

    def __post_init__(self) -> None:
        """Refuse settings AWS IoT would refuse; the message is the error key."""
        errors = validate_settings(
            self.endpoint, self.port, self.thing, self.topic_prefix, self.queue_limit
        )
        # Any TCP port may be used in code (a local stand-in for AWS); the
        # options flow offers only the two ports AWS IoT listens on.
        errors.pop(CONF_AWS_PORT, None)
        if not 0 < self.port < 65536:
            errors[CONF_AWS_PORT] = ERROR_INVALID_PORT
        if errors:
            raise ValueError(next(iter(errors.values())))
        if not MIN_KEEPALIVE_S <= self.keepalive_s <= MAX_KEEPALIVE_S:
            raise ValueError("invalid_keepalive")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> AwsMirrorConfig | None:
        """Return the mirror settings of an entry, or None when the mirror is off."""
        if not options.get(CONF_AWS_ENABLED) or not options.get(CONF_AWS_ENDPOINT):
            return None
        return cls(
            endpoint=str(options[CONF_AWS_ENDPOINT]).strip(),
            thing=str(options[CONF_AWS_THING]).strip(),
            certificate=str(options[CONF_AWS_CERTIFICATE]),
            private_key=str(options[CONF_AWS_PRIVATE_KEY]),
            ca=str(options[CONF_AWS_CA]),
            port=int(options.get(CONF_AWS_PORT, DEFAULT_AWS_PORT)),
            topic_prefix=str(
                options.get(CONF_AWS_TOPIC_PREFIX, DEFAULT_TOPIC_PREFIX)
            ).strip(),
            queue_limit=int(options.get(CONF_AWS_QUEUE_LIMIT, DEFAULT_QUEUE_LIMIT)),
        )

    def topic(self, kind: str) -> str:
        """Return the topic a kind of message goes to."""
        return f"{self.topic_prefix}/{self.thing}/{kind}"


def validate_settings(
    endpoint: str,
    port: int,
    thing: str,
    topic_prefix: str,
    queue_limit: int = DEFAULT_QUEUE_LIMIT,
) -> dict[str, str]:
    """Return an error key per option that AWS IoT would not accept."""
    errors: dict[str, str] = {}
    if not _ENDPOINT.match(endpoint):
        errors[CONF_AWS_ENDPOINT] = ERROR_INVALID_ENDPOINT
    if port not in AWS_PORTS:
        errors[CONF_AWS_PORT] = ERROR_INVALID_PORT
    if not valid_client_id(thing):
        errors[CONF_AWS_THING] = ERROR_INVALID_THING
    # The prefix follows the same rules as the local base topic.
    if not valid_base_topic(topic_prefix):
        errors[CONF_AWS_TOPIC_PREFIX] = ERROR_INVALID_TOPIC_PREFIX
    if not 1 <= queue_limit <= MAX_QUEUE_LIMIT:
        errors[CONF_AWS_QUEUE_LIMIT] = ERROR_INVALID_QUEUE_LIMIT
    return errors


def validate_options(
    options: Mapping[str, Any],
) -> tuple[dict[str, str], datetime | None]:
    """Check mirror options for the flow: error key per field, certificate expiry."""
    errors = validate_settings(
        str(options.get(CONF_AWS_ENDPOINT, "")).strip(),
        int(options.get(CONF_AWS_PORT, DEFAULT_AWS_PORT)),
        str(options.get(CONF_AWS_THING, "")).strip(),
        str(options.get(CONF_AWS_TOPIC_PREFIX, DEFAULT_TOPIC_PREFIX)).strip(),
        int(options.get(CONF_AWS_QUEUE_LIMIT, DEFAULT_QUEUE_LIMIT)),
    )
    pems = check_pems(
        str(options.get(CONF_AWS_CERTIFICATE, "")),
        str(options.get(CONF_AWS_PRIVATE_KEY, "")),
        str(options.get(CONF_AWS_CA, "")),
    )
    return errors | pems.errors, pems.expires


def valid_client_id(client_id: str) -> bool:
    """Return whether AWS IoT accepts a client id (the thing name)."""
    return bool(_CLIENT_ID.match(client_id))


def check_publish_limits(topic: str, payload: bytes, qos: int = QOS) -> str | None:
    """Return why AWS IoT would refuse a publish, or None when it is within limits."""
    if qos > MAX_QOS:
        return f"QoS {qos} is above {MAX_QOS}"
    if len(payload) > MAX_PAYLOAD_BYTES:
        return f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}"
    topic_bytes = len(topic.encode())
    if topic_bytes > MAX_TOPIC_BYTES:
        return f"topic of {topic_bytes} bytes is over {MAX_TOPIC_BYTES}"
    if topic.count("/") > MAX_TOPIC_SLASHES:
        return f"topic has more than {MAX_TOPIC_SLASHES} slashes"
    if not topic or topic.startswith("$") or "+" in topic or "#" in topic:
        return "topic is empty, reserved or has a wildcard"
    return None


def build_ssl_context(config: AwsMirrorConfig) -> ssl.SSLContext:
    """Return a mutual-TLS context for the endpoint; blocking, run it in an executor."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=config.ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if config.port == ALPN_PORT:
        context.set_alpn_protocols([ALPN_PROTOCOL])
    # load_cert_chain only reads files: the PEMs live in a private folder
    # just long enough to be loaded, so the key never stays on disk.
    with tempfile.TemporaryDirectory(prefix="iot_porter_aws_") as folder:
        cert_path = Path(folder) / "thing.pem"
        key_path = Path(folder) / "thing.key"
        for path, text in (
            (cert_path, config.certificate),
            (key_path, config.private_key),
        ):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(text)
        context.load_cert_chain(cert_path, key_path)
    return context


def classify_tls_error(text: str) -> str:
    """Return the mirror error for an OpenSSL error text."""
    upper = text.upper()
    if "CERTIFICATE_VERIFY_FAILED" in upper or "HOSTNAME MISMATCH" in upper:
        return ERROR_SERVER_UNTRUSTED
    if "ALERT" in upper and any(alert in upper for alert in _REJECTION_ALERTS):
        return ERROR_CERTIFICATE_REJECTED
    return ERROR_TLS


@dataclass(slots=True)
class _Message:
    """One message waiting for AWS to acknowledge it."""

    id: int
    topic: str
    payload: str


@dataclass(eq=False)
class _Session:
    """One connection attempt: its paho client and what is on the wire."""

    client: mqtt.Client
    connack: asyncio.Event = field(default_factory=asyncio.Event)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    ready: bool = False
    refused: str | None = None
    socket_error: str | None = None
    in_flight: dict[int, int] = field(default_factory=dict)

    @property
    def in_flight_ids(self) -> set[int]:
        """Return the queue ids published on this connection and not yet acked."""
        return set(self.in_flight.values())


class AwsMirror:
    """Publish door events and forecasts to AWS IoT Core without losing any."""

    def __init__(
        self, hass: HomeAssistant, config: AwsMirrorConfig, store_key: str
    ) -> None:
        """Prepare a stopped mirror; async_start connects."""
        self.hass = hass
        self.config = config
        self._store: Store[dict[str, Any]] = Store(hass, STORE_VERSION, store_key)
        self._queue: deque[_Message] = deque()
        self._next_id = 0
        self._listeners: list[StatusListener] = []
        self._session: _Session | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._context: ssl.SSLContext | None = None
        self._warned_full = False
        self._warned_invalid: set[str] = set()
        self._logged_error: str | None = None
        self.connected = False
        self.last_error: str | None = None
        self.last_error_detail: str | None = None
        self.sent = 0
        self.dropped_oldest = 0
        self.dropped_invalid = 0
        self.connects = 0
        self.certificate_expires = certificate_expiry(config.certificate)

    @property
    def queue_depth(self) -> int:
        """Return how many messages wait for AWS."""
        return len(self._queue)

    @property
    def in_flight(self) -> int:
        """Return how many messages are sent and not yet acknowledged."""
        return len(self._session.in_flight) if self._session else 0

    @property
    def certificate_expiring(self) -> bool:
        """Return whether the certificate expires within the warning period."""
        if self.certificate_expires is None:
            return False
        return self.certificate_expires - dt_util.utcnow() < EXPIRY_WARNING

    @callback
    def async_add_listener(self, listener: StatusListener) -> CALLBACK_TYPE:
        """Call a listener whenever connected or last_error changes."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            """Stop calling the listener."""
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def diagnostics(self) -> dict[str, Any]:
        """Return the mirror's state without endpoint, certificates or key."""
        return {
            "thing": self.config.thing,
            "port": self.config.port,
            "topic_prefix": self.config.topic_prefix,
            "connected": self.connected,
            "last_error": self.last_error,
            "connects": self.connects,
            "queue_depth": self.queue_depth,
            "queue_limit": self.config.queue_limit,
            "in_flight": self.in_flight,
            "sent": self.sent,
            "dropped_oldest": self.dropped_oldest,
            "dropped_invalid": self.dropped_invalid,
            "certificate_expires": self.certificate_expires.isoformat()
            if self.certificate_expires
            else None,
            "certificate_expiring": self.certificate_expiring,
        }

    async def async_start(self) -> None:
        """Load the waiting messages and start connecting in the background."""
        if self._supervisor is not None:
            return
        stored = await self._store.async_load() or {}
        try:
            restored = [
                _Message(int(item[0]), str(item[1]), str(item[2]))
                for item in stored.get("queue", [])
            ]
        except (TypeError, ValueError, IndexError):
            _LOGGER.warning(
                "The stored AWS IoT mirror queue is damaged; starting with an "
                "empty queue"
            )
            restored = []
        self._next_id = max(int(stored.get("next_id", 0)), self._next_id)
        for message in self._queue:
            message.id = self._next_id
            self._next_id += 1
        self._queue = deque(restored + list(self._queue))
        self.sent = int(stored.get("sent", 0))
        self.dropped_oldest = int(stored.get("dropped_oldest", 0))
        self.dropped_invalid = int(stored.get("dropped_invalid", 0))
        self._trim()
        self._stop.clear()
        self._supervisor = self.hass.async_create_background_task(
            self._async_supervise(), f"{DOMAIN} AWS mirror {self.config.thing}"
        )

    async def async_stop(self) -> None:
        """Disconnect, stop paho's thread and write the queue to disk now."""
        self._stop.set()
        if self._supervisor is not None:
            await self._supervisor
            self._supervisor = None
        await self._store.async_save(self._as_store())

    def _as_store(self) -> dict[str, Any]:
        """Return the queue and counters to persist."""
        return {
            "next_id": self._next_id,
            "queue": [[m.id, m.topic, m.payload] for m in self._queue],
            "sent": self.sent,
            "dropped_oldest": self.dropped_oldest,
            "dropped_invalid": self.dropped_invalid,
        }

    @callback
    def _schedule_save(self) -> None:
        """Persist soon; a stop writes at once."""
        self._store.async_delay_save(self._as_store, SAVE_DELAY_S)

    @callback
    def async_on_counted(self, board: Board, events: Sequence[CountedEvent]) -> None:
        """Mirror a batch of newly counted door events, one message each."""
        received = int(dt_util.utcnow().timestamp())
        today = dt_util.now().date()
        dated_today = [dt_util.as_local(event.when).date() == today for event in events]
        later = len(events)
        later_today = sum(dated_today)
        # The board's counts already include the whole batch; each event
        # carries the counts as they stood right after it was counted.
        for event, is_today in zip(events, dated_today, strict=True):
            later -= 1
            later_today -= is_today
            self.enqueue(
                KIND_DOOR,
                {
                    "v": PAYLOAD_VERSION,
                    "device": board.device_id,
                    "gen": event.gen,
                    "seq": event.seq,
                    "ts": event.board_ts,
                    "received": received,
                    "total": max(board.total - later, 0),
                    "today": max(board.today - later_today, 0),
                },
            )

    @callback
    def enqueue_forecast(
        self,
        device_id: str,
        *,
        lines: Iterable[str],
        source: str,
        model: str | None,
        generated: datetime,
        forecast_id: str | None = None,
    ) -> bool:
        """Mirror a new forecast text for a board."""
        text = list(lines)
        if forecast_id is None:
            digest = hashlib.sha256(json.dumps(text, ensure_ascii=False).encode())
            forecast_id = digest.hexdigest()[:8]
        return self.enqueue(
            KIND_FORECAST,
            {
                "v": PAYLOAD_VERSION,
                "device": device_id,
                "id": forecast_id,
                "lines": text,
                "source": source,
                "model": model,
                "generated": int(generated.timestamp()),
            },
        )

    @callback
    def enqueue(self, kind: str, payload: Mapping[str, Any]) -> bool:
        """Queue a message for <prefix>/<thing>/<kind>; False if a limit forbids it."""
        topic = self.config.topic(kind)
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        problem = check_publish_limits(topic, text.encode())
        if problem is not None:
            self.dropped_invalid += 1
            self._schedule_save()
            if kind not in self._warned_invalid:
                self._warned_invalid.add(kind)
                _LOGGER.warning(
                    "Not mirroring a %s message to AWS IoT: %s; further ones are "
                    "only counted in diagnostics",
                    kind,
                    problem,
                )
            return False
        self._queue.append(_Message(self._next_id, topic, text))
        self._next_id += 1
        self._trim()
        self._schedule_save()
        self._pump()
        return True

    @callback
    def _trim(self) -> None:
        """Drop the oldest messages beyond the bound, counting and saying so."""
        dropped = 0
        while len(self._queue) > self.config.queue_limit:
            message = self._queue.popleft()
            dropped += 1
            if self._session is not None:
                # A PUBACK for it may still come; it then finds nothing to remove.
                for mid, queued_id in list(self._session.in_flight.items()):
                    if queued_id == message.id:
                        del self._session.in_flight[mid]
        if not dropped:
            return
        self.dropped_oldest += dropped
        if not self._warned_full:
            self._warned_full = True
            _LOGGER.warning(
                "The AWS IoT mirror queue is full (%d messages); dropping the "
                "oldest, the count is in diagnostics",
                self.config.queue_limit,
            )

    @callback
    def _pump(self) -> None:
        """Publish the head of the queue, at most a window at a time."""
        session = self._session
        if session is None or not session.ready or self._stop.is_set():
            return
        on_wire = session.in_flight_ids
        for message in itertools.islice(self._queue, SEND_WINDOW):
            if len(session.in_flight) >= SEND_WINDOW:
                break
            if message.id in on_wire:
                continue
            info = session.client.publish(message.topic, message.payload, qos=QOS)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                # The connection is going; on_disconnect follows and a new
                # connection starts again from the head of the queue.
                break
            session.in_flight[info.mid] = message.id
            session.idle.clear()

    @callback
    def _on_puback(self, session: _Session, mid: int) -> None:
        """Remove an acknowledged message from the queue and send more."""
        if session is not self._session:
            return
        queued_id = session.in_flight.pop(mid, None)
        if not session.in_flight:
            session.idle.set()
        if queued_id is None:
            return
        for index, message in enumerate(self._queue):
            if message.id == queued_id:
                del self._queue[index]
                break
        self.sent += 1
        if not self._queue:
            self._warned_full = False
        self._schedule_save()
        self._pump()

    @callback
    def _on_connack(self, session: _Session, refused: str | None) -> None:
        """Start sending after AWS accepted the connection."""
        if session is not self._session:
            return
        session.connack.set()
        if refused is not None:
            session.refused = refused
            return
        session.ready = True
        session.idle.set()
        self.connects += 1
        if self._logged_error is not None:
            _LOGGER.info("Connected to AWS IoT again as %s", self.config.thing)
        else:
            _LOGGER.debug("Connected to AWS IoT as %s", self.config.thing)
        self._logged_error = None
        self._set_status(True, None, None)
        self._pump()

    @callback
    def _on_socket_error(self, session: _Session, text: str) -> None:
        """Keep the last socket error of a connection to explain its end."""
        if session is self._session:
            session.socket_error = text

    @callback
    def _set_status(
        self, connected: bool, error: str | None, detail: str | None
    ) -> None:
        """Update the connection status and tell the listeners about changes."""
        changed = connected != self.connected or error != self.last_error
        self.connected = connected
        self.last_error = error
        self.last_error_detail = detail
        if changed:
            for listener in list(self._listeners):
                listener()

    @callback
    def _report(self, error: str, detail: str | None) -> None:
        """Record why there is no connection; log each new reason once."""
        if error != self._logged_error:
            self._logged_error = error
            _LOGGER.warning(
                "AWS IoT mirror for %s is not connected (%s%s); messages wait in "
                "the queue",
                self.config.thing,
                error,
                f": {detail}" if detail else "",
            )
        self._set_status(False, error, detail)

    def _thread_safe(self, target: Callable[..., None], *args: Any) -> None:
        """Run a callback in the event loop from paho's thread."""
        # A closed loop means Home Assistant is gone: nothing left to update.
        with contextlib.suppress(RuntimeError):
            self.hass.loop.call_soon_threadsafe(target, *args)

    def _new_session(self) -> _Session:
        """Return a session with a fresh paho client and its callbacks."""
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.config.thing,
            protocol=mqtt.MQTTv311,
            clean_session=True,
            reconnect_on_failure=False,
        )
        session = _Session(client)
        assert self._context is not None
        client.tls_set_context(self._context)
        client.connect_timeout = CONNECT_TIMEOUT_S
        client.max_inflight_messages_set(SEND_WINDOW)

        def on_connect(
            _client: mqtt.Client,
            _userdata: Any,
            _flags: mqtt.ConnectFlags,
            reason: ReasonCode,
            _properties: Properties | None,
        ) -> None:
            """Hand the CONNACK to the event loop."""
            refused = str(reason) if reason.is_failure else None
            self._thread_safe(self._on_connack, session, refused)

        def on_publish(
            _client: mqtt.Client,
            _userdata: Any,
            mid: int,
            _reason: ReasonCode,
            _properties: Properties,
        ) -> None:
            """Hand a PUBACK to the event loop."""
            self._thread_safe(self._on_puback, session, mid)

        def on_disconnect(
            _client: mqtt.Client,
            _userdata: Any,
            _flags: mqtt.DisconnectFlags,
            _reason: ReasonCode,
            _properties: Properties | None,
        ) -> None:
            """Tell the event loop the connection ended."""
            self._thread_safe(session.disconnected.set)

        def on_log(_client: mqtt.Client, _userdata: Any, level: int, text: str) -> None:
            """Keep socket errors: they tell a rejected certificate from a blip."""
            if level == mqtt.MQTT_LOG_ERR:
                self._thread_safe(self._on_socket_error, session, text)

        client.on_connect = on_connect
        client.on_publish = on_publish
        client.on_disconnect = on_disconnect
        client.on_log = on_log
        return session

    def _connect(self, client: mqtt.Client) -> None:
        """Open TCP and TLS and send CONNECT; blocking, run it in an executor."""
        client.connect(self.config.endpoint, self.config.port, self.config.keepalive_s)

    async def _async_supervise(self) -> None:
        """Connect, wait for the connection to end, back off; repeat until stopped."""
        try:
            self._context = await self.hass.async_add_executor_job(
                build_ssl_context, self.config
            )
        except (ssl.SSLError, ValueError, OSError) as err:
            # Only the OpenSSL reason: the texts themselves stay out of the log.
            self._report(ERROR_INVALID_CREDENTIALS, type(err).__name__)
            return
        delay = self.config.reconnect_min_s
        closes_before_connack = 0
        while not self._stop.is_set():
            session = self._session = self._new_session()
            error, detail = await self._async_connection(session)
            if session.ready:
                delay = self.config.reconnect_min_s
                closes_before_connack = 0
            elif error == ERROR_CONNECTION_LOST:
                closes_before_connack += 1
                if closes_before_connack >= CLOSES_BEFORE_REJECTED:
                    error = ERROR_CERTIFICATE_REJECTED
            self._session = None
            if self._stop.is_set():
                break
            self._report(error, detail)
            await self._async_wait(self._stop, limit_s=delay)
            delay = min(delay * 2, self.config.reconnect_max_s)
        self._set_status(False, self.last_error, self.last_error_detail)

    async def _async_connection(self, session: _Session) -> tuple[str, str | None]:
        """Run one connection from CONNECT to its end; return why it ended."""
        client = session.client
        try:
            await self.hass.async_add_executor_job(self._connect, client)
        except ssl.SSLError as err:
            text = err.reason or str(err)
            return classify_tls_error(str(err)), text
        except OSError as err:
            return ERROR_UNREACHABLE, err.strerror or type(err).__name__
        client.loop_start()
        await self._async_wait(
            session.connack, session.disconnected, self._stop, limit_s=CONNACK_TIMEOUT_S
        )
        if not any(
            e.is_set() for e in (session.connack, session.disconnected, self._stop)
        ):
            client.disconnect()
            await self.hass.async_add_executor_job(client.loop_stop)
            return ERROR_NO_ANSWER, f"no CONNACK within {CONNACK_TIMEOUT_S:.0f} s"
        await self._async_wait(session.disconnected, self._stop)
        if self._stop.is_set() and not session.disconnected.is_set():
            if session.ready and session.in_flight:
                await self._async_wait(
                    session.idle, session.disconnected, limit_s=DRAIN_ON_STOP_S
                )
            client.disconnect()
        await self.hass.async_add_executor_job(client.loop_stop)
        if session.refused is not None:
            if session.refused in _REFUSED_NAMES:
                return ERROR_CERTIFICATE_REJECTED, session.refused
            return ERROR_REFUSED, session.refused
        if session.socket_error and not session.ready:
            error = classify_tls_error(session.socket_error)
            if error != ERROR_TLS:
                return error, session.socket_error
        return ERROR_CONNECTION_LOST, session.socket_error

    async def _async_wait(
        self, *events: asyncio.Event, limit_s: float | None = None
    ) -> None:
        """Wait until any event is set or the timeout passes."""
        waiters = [asyncio.ensure_future(event.wait()) for event in events]
        try:
            await asyncio.wait(
                waiters, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()


@callback
def async_update_repair_issues(hass: HomeAssistant, mirror: AwsMirror) -> None:
    """Raise or clear the mirror's repair issues: certificate refused or expiring."""
    placeholders = {
        "thing": mirror.config.thing,
        "expires": mirror.certificate_expires.date().isoformat()
        if mirror.certificate_expires
        else "?",
    }
    for issue_id, active in (
        (ISSUE_CERTIFICATE_REJECTED, mirror.last_error == ERROR_CERTIFICATE_REJECTED),
        (ISSUE_CERTIFICATE_EXPIRING, mirror.certificate_expiring),
    ):
        if active:
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR
                if issue_id == ISSUE_CERTIFICATE_REJECTED
                else ir.IssueSeverity.WARNING,
                translation_key=issue_id,
                translation_placeholders=placeholders,
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
