"""The AWS IoT mirror against a Mosquitto that behaves like AWS IoT Core."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
import ssl
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
import pytest

from custom_components.iot_porter import aws_mirror
from custom_components.iot_porter.aws_mirror import (
    ERROR_CERTIFICATE_REJECTED,
    ERROR_SERVER_UNTRUSTED,
    ISSUE_CERTIFICATE_EXPIRING,
    ISSUE_CERTIFICATE_REJECTED,
    AwsMirror,
    async_update_repair_issues,
)
from custom_components.iot_porter.const import DOMAIN
from custom_components.iot_porter.coordinator import Board, CountedEvent

from .cable import Cable
from .conftest import AwsLikeBroker, MirrorFactory, Observer, Pki, wait_until

DOOR = "iot_porter/front-door/door"
FORECAST = "iot_porter/front-door/forecast"


def count(mirror: AwsMirror, seqs: range | list[int], gen: int = 9) -> None:
    """Hand the mirror door events as the hub does right after counting them."""
    seqs = list(seqs)
    now = dt_util.utcnow()
    board = Board("front-door", total=100 + seqs[-1], today=5 + seqs[-1])
    events = [CountedEvent(gen, seq, now, int(now.timestamp())) for seq in seqs]
    mirror.async_on_counted(board, events)


def seqs_seen(observer: Observer, topic: str = DOOR) -> list[int]:
    """Return the sequence numbers that arrived, in arrival order."""
    return [payload["seq"] for payload in observer.payloads(topic)]


async def test_door_events_arrive_one_message_each_with_the_cloud_fields(
    hass: HomeAssistant, make_mirror: MirrorFactory, observer: Observer
) -> None:
    mirror = make_mirror()
    changes: list[bool] = []
    mirror.async_add_listener(lambda: changes.append(mirror.connected))
    await mirror.async_start()
    await wait_until(lambda: mirror.connected, "the mirror is connected")

    now = dt_util.utcnow()
    yesterday = now - timedelta(days=2)
    board = Board("front-door", total=12, today=3)
    mirror.async_on_counted(
        board,
        [
            CountedEvent(2761094, 40, yesterday, int(yesterday.timestamp())),
            CountedEvent(2761094, 41, now, int(now.timestamp())),
            CountedEvent(2761094, 42, now, None),
        ],
    )
    await wait_until(lambda: len(observer.payloads(DOOR)) == 3, "three events arrive")

    first, second, third = observer.payloads(DOOR)
    received = int(now.timestamp())
    assert set(first) == {"v", "device", "gen", "seq", "ts", "received", "total"} | {
        "today"
    }
    assert first["v"] == 1
    assert first["device"] == "front-door"
    assert (first["gen"], first["seq"]) == (2761094, 40)
    assert first["ts"] == int(yesterday.timestamp())
    assert abs(first["received"] - received) <= 2
    # Counts as they stood right after each event: the board's final counts
    # include all three, and the first one was not dated today.
    assert [p["total"] for p in (first, second, third)] == [10, 11, 12]
    assert [p["today"] for p in (first, second, third)] == [1, 2, 3]
    assert third["ts"] is None
    await wait_until(lambda: mirror.sent == 3, "all three are acknowledged")
    assert mirror.queue_depth == 0
    assert mirror.last_error is None
    assert changes == [True]


async def test_forecast_text_arrives_on_its_own_topic(
    hass: HomeAssistant, make_mirror: MirrorFactory, observer: Observer
) -> None:
    mirror = make_mirror()
    await mirror.async_start()
    generated = dt_util.utcnow()

    assert mirror.enqueue_forecast(
        "front-door",
        lines=["Regn efter 15", "Max 7°, blåsigt"],
        source="openai",
        model="gpt-4o-mini",
        generated=generated,
        forecast_id="a1b2c3d4",
    )
    await wait_until(lambda: observer.payloads(FORECAST), "the forecast arrives")

    assert observer.payloads(FORECAST) == [
        {
            "v": 1,
            "device": "front-door",
            "id": "a1b2c3d4",
            "lines": ["Regn efter 15", "Max 7°, blåsigt"],
            "source": "openai",
            "model": "gpt-4o-mini",
            "generated": int(generated.timestamp()),
        }
    ]


@pytest.mark.parametrize("identity", ["rogue_front_door", "expired_front_door"])
async def test_certificate_the_broker_refuses_is_reported_and_messages_wait(
    hass: HomeAssistant,
    make_mirror: MirrorFactory,
    observer: Observer,
    pki: Pki,
    identity: str,
) -> None:
    mirror = make_mirror(identity=getattr(pki, identity))
    told: list[str | None] = []
    mirror.async_add_listener(lambda: told.append(mirror.last_error))
    mirror.async_add_listener(lambda: async_update_repair_issues(hass, mirror))
    await mirror.async_start()
    count(mirror, [1])

    await wait_until(
        lambda: mirror.last_error == ERROR_CERTIFICATE_REJECTED,
        "the certificate is reported as rejected",
    )

    # With TLS 1.3 the refusal may reach the client as a bare reset; the
    # second close before a CONNACK in a row is then taken as the rejection.
    assert told[-1] == ERROR_CERTIFICATE_REJECTED
    assert len(told) <= 2
    assert not mirror.connected
    assert mirror.queue_depth == 1
    assert mirror.sent == 0
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, ISSUE_CERTIFICATE_REJECTED) is not None
    expiring = issues.async_get_issue(DOMAIN, ISSUE_CERTIFICATE_EXPIRING)
    assert (expiring is not None) == (identity == "expired_front_door")
    assert observer.payloads(DOOR) == []


async def test_broker_certificate_from_an_unknown_ca_is_not_trusted(
    hass: HomeAssistant, make_mirror: MirrorFactory, pki: Pki
) -> None:
    mirror = make_mirror(ca=pki.rogue_ca.pem)
    await mirror.async_start()

    await wait_until(
        lambda: mirror.last_error == ERROR_SERVER_UNTRUSTED,
        "the broker is reported as untrusted",
    )
    assert not mirror.connected


def test_client_without_a_certificate_is_refused(
    aws_broker: AwsLikeBroker, pki: Pki
) -> None:
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="front-door",
        protocol=mqtt.MQTTv311,
        reconnect_on_failure=False,
    )
    client.tls_set_context(ssl.create_default_context(cadata=pki.ca.pem))
    errors: list[str] = []
    client.on_log = lambda _c, _u, level, text: (
        errors.append(text) if level == mqtt.MQTT_LOG_ERR else None
    )
    accepted: list[Any] = []
    client.on_connect = lambda *args: accepted.append(args[3])
    try:
        client.connect("127.0.0.1", aws_broker.tls_port)
    except ssl.SSLError as err:
        errors.append(str(err))
    else:
        # TLS 1.3 lets the handshake finish; the refusal arrives on first read.
        for _ in range(5):
            client.loop(timeout=0.2)
    client.disconnect()

    assert accepted == []
    assert errors
    assert all(
        "CERTIFICATE_REQUIRED" in text or "reset by peer" in text for text in errors
    ), errors


async def test_publishing_under_another_things_topic_is_denied(
    hass: HomeAssistant, make_mirror: MirrorFactory, observer: Observer, pki: Pki
) -> None:
    # Thing name back-door with front-door's certificate: the broker scopes
    # the connection to front-door's topics, as the AWS policy does.
    impostor = make_mirror("back-door", identity=pki.things["front-door"])
    await impostor.async_start()
    impostor.enqueue("door", {"v": 1, "device": "back-door", "gen": 1, "seq": 666})
    await wait_until(lambda: impostor.sent == 1, "the broker acknowledged it")
    await impostor.async_stop()

    genuine = make_mirror("back-door", store_key="iot_porter.aws_back_door")
    await genuine.async_start()
    genuine.enqueue("door", {"v": 1, "device": "back-door", "gen": 1, "seq": 7})
    await wait_until(
        lambda: observer.payloads("iot_porter/back-door/door"),
        "the genuine back-door message arrives",
    )

    assert [p["seq"] for p in observer.payloads("iot_porter/back-door/door")] == [7]


async def test_outage_loses_nothing_and_duplicates_nothing(
    hass: HomeAssistant, make_mirror: MirrorFactory, observer: Observer, cable: Cable
) -> None:
    mirror = make_mirror()
    await mirror.async_start()
    count(mirror, range(3))
    await wait_until(lambda: mirror.sent == 3, "the first three are acknowledged")

    await cable.cut()
    await wait_until(lambda: not mirror.connected, "the mirror notices the outage")
    count(mirror, range(3, 8))
    assert mirror.queue_depth == 5

    await cable.start()
    await wait_until(lambda: mirror.queue_depth == 0, "the queue drains")
    count(mirror, [8])
    await wait_until(lambda: mirror.sent == 9, "every event is acknowledged")
    await wait_until(lambda: 8 in seqs_seen(observer), "the last event arrives")

    assert seqs_seen(observer) == list(range(9))
    assert mirror.last_error is None


async def test_broker_restart_loses_nothing_and_duplicates_nothing(
    hass: HomeAssistant,
    make_mirror: MirrorFactory,
    observer: Observer,
    aws_broker: AwsLikeBroker,
    cable: Cable,
) -> None:
    mirror = make_mirror()
    await mirror.async_start()
    count(mirror, range(2))
    await wait_until(lambda: mirror.sent == 2, "the first two are acknowledged")

    # The observer must be subscribed again before the mirror is let back
    # in: Mosquitto does not queue for sessions it restored from disk.
    await cable.cut()
    subscriptions = observer.subscriptions
    await hass.async_add_executor_job(aws_broker.broker.restart)
    count(mirror, range(2, 5))
    await wait_until(
        lambda: observer.subscriptions > subscriptions, "the observer is back"
    )
    await cable.start()
    await wait_until(lambda: mirror.sent == 5, "every event is acknowledged")
    await wait_until(lambda: 4 in seqs_seen(observer), "the last event arrives")

    assert seqs_seen(observer) == list(range(5))


async def test_restart_while_messages_wait_loses_and_duplicates_nothing(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    make_mirror: MirrorFactory,
    observer: Observer,
    cable: Cable,
) -> None:
    before = make_mirror()
    await before.async_start()
    count(before, range(2))
    await wait_until(lambda: before.sent == 2, "the first two are acknowledged")
    await cable.cut()
    await wait_until(lambda: not before.connected, "the mirror notices the outage")
    count(before, range(2, 6))

    await before.async_stop()
    stored = hass_storage["iot_porter.aws_mirror_test"]["data"]
    assert len(stored["queue"]) == 4
    assert "PRIVATE KEY" not in str(stored)

    after = make_mirror()
    await after.async_start()
    assert after.queue_depth == 4
    assert after.sent == 2
    await cable.start()
    await wait_until(lambda: after.queue_depth == 0, "the restored queue drains")
    count(after, [6])
    await wait_until(lambda: after.sent == 7, "every event is acknowledged")
    await wait_until(lambda: 6 in seqs_seen(observer), "the last event arrives")

    assert seqs_seen(observer) == list(range(7))


async def test_stop_while_connected_resends_nothing_after_restart(
    hass: HomeAssistant, make_mirror: MirrorFactory, observer: Observer
) -> None:
    before = make_mirror()
    await before.async_start()
    count(before, range(20))
    # Stop at once: outstanding messages get their PUBACK before disconnecting.
    await wait_until(lambda: before.connected, "the mirror is connected")
    await before.async_stop()

    after = make_mirror()
    await after.async_start()
    await wait_until(lambda: after.connected, "the new mirror is connected")
    count(after, [20])
    await wait_until(lambda: 20 in seqs_seen(observer), "a later event arrives")

    assert seqs_seen(observer) == list(range(21))


async def test_full_queue_drops_the_oldest_and_says_so(
    hass: HomeAssistant,
    make_mirror: MirrorFactory,
    observer: Observer,
    cable: Cable,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await cable.cut()
    mirror = make_mirror(queue_limit=3)
    await mirror.async_start()

    with caplog.at_level(logging.WARNING):
        for seq in range(7):
            count(mirror, [seq])

    assert mirror.queue_depth == 3
    assert mirror.dropped_oldest == 4
    assert mirror.diagnostics()["dropped_oldest"] == 4
    full = [r for r in caplog.records if "queue is full" in r.getMessage()]
    assert len(full) == 1
    assert full[0].levelno == logging.WARNING

    await cable.start()
    await wait_until(lambda: mirror.queue_depth == 0, "the queue drains")
    await wait_until(lambda: len(seqs_seen(observer)) == 3, "three events arrive")
    assert seqs_seen(observer) == [4, 5, 6]


async def test_messages_over_aws_limits_are_dropped_counted_and_logged_once(
    hass: HomeAssistant,
    make_mirror: MirrorFactory,
    observer: Observer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mirror = make_mirror()
    await mirror.async_start()
    huge = ["x" * (128 * 1024)]

    for _ in range(2):
        assert not mirror.enqueue_forecast(
            "front-door",
            lines=huge,
            source="local",
            model=None,
            generated=dt_util.utcnow(),
        )
    count(mirror, [1])
    await wait_until(lambda: mirror.sent == 1, "the door event is acknowledged")

    assert mirror.dropped_invalid == 2
    assert observer.payloads(FORECAST) == []
    warnings = [r for r in caplog.records if "Not mirroring" in r.getMessage()]
    assert len(warnings) == 1


async def test_topic_prefix_that_makes_topics_too_long_sends_nothing(
    hass: HomeAssistant, make_mirror: MirrorFactory
) -> None:
    mirror = make_mirror(topic_prefix="/".join(["p" * 60] * 5))

    assert not mirror.enqueue("door", {"v": 1})
    assert mirror.dropped_invalid == 1
    assert mirror.queue_depth == 0


async def test_diagnostics_hold_no_secrets(
    hass: HomeAssistant, make_mirror: MirrorFactory, pki: Pki
) -> None:
    mirror = make_mirror()
    text = str(mirror.diagnostics()) + repr(mirror.config)

    assert "PRIVATE KEY" not in text
    assert "CERTIFICATE" not in text
    assert "127.0.0.1" not in str(mirror.diagnostics())
    assert mirror.diagnostics()["certificate_expiring"] is False


async def test_server_that_never_answers_connect_is_given_up_on(
    hass: HomeAssistant,
    make_mirror: MirrorFactory,
    pki: Pki,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aws_mirror, "CONNACK_TIMEOUT_S", 0.2)
    server_cert = pki.ca.issue("localhost", server=True)
    cert_path, key_path = server_cert.write(pki.folder, "silent-server")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    held: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(
        lambda _reader, writer: held.append(writer), "127.0.0.1", 0, ssl=context
    )
    port = silent.sockets[0].getsockname()[1]
    mirror = make_mirror(port=port)
    await mirror.async_start()

    await wait_until(
        lambda: mirror.last_error == aws_mirror.ERROR_NO_ANSWER,
        "the silent server is reported",
    )
    await mirror.async_stop()
    silent.close()
    for writer in held:
        writer.close()
    await silent.wait_closed()

    assert not mirror.connected
    assert mirror.queue_depth == 0
