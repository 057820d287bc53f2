"""A Mosquitto that checks certificates and topics the way AWS IoT Core does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import threading
from typing import Any
import uuid

from homeassistant.core import HomeAssistant
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
import pytest

from custom_components.iot_porter.aws_mirror import AwsMirror, AwsMirrorConfig
from tests.broker import Broker, free_port, running_broker

from .cable import Cable
from .certs import CertificateAuthority, Issued

WAIT_S = 15.0
POLL_S = 0.02


@dataclass(frozen=True)
class Pki:
    """The test CA, a stranger's CA and the certificates issued by them."""

    folder: Path
    ca: CertificateAuthority
    rogue_ca: CertificateAuthority
    things: dict[str, Issued]
    rogue_front_door: Issued
    expired_front_door: Issued


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Return a CA, a broker certificate on disk and thing certificates."""
    folder = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority()
    rogue = CertificateAuthority("Someone else's CA")
    (folder / "ca.pem").write_text(ca.pem)
    ca.issue("localhost", server=True).write(folder, "server")
    now = datetime.now(UTC)
    return Pki(
        folder=folder,
        ca=ca,
        rogue_ca=rogue,
        things={name: ca.issue(name) for name in ("front-door", "back-door")},
        rogue_front_door=rogue.issue("front-door"),
        expired_front_door=ca.issue(
            "front-door",
            valid_from=now - timedelta(days=400),
            valid_until=now - timedelta(days=1),
        ),
    )


@dataclass
class AwsLikeBroker:
    """A Mosquitto with a plain listener (the observer) and an mTLS one (AWS)."""

    broker: Broker
    tls_port: int

    def stop(self) -> None:
        """Take the broker down, as an AWS outage would."""
        self.broker.stop()

    def start(self) -> None:
        """Bring the broker back on the same ports with the same data."""
        self.broker.start()


@pytest.fixture
def aws_broker(pki: Pki, socket_enabled: None) -> Iterator[AwsLikeBroker]:
    """Run a broker whose TLS listener scopes each certificate to its own topics."""
    acl = pki.folder / "acl.txt"
    # Anonymous clients (only on the plain listener) may read everything; a
    # certificate's common name may read and write only under its own topics.
    acl.write_text("topic read #\npattern readwrite iot_porter/%u/#\n")
    tls_port = free_port()
    extra = (
        f"listener {tls_port} 127.0.0.1\n"
        f"cafile {pki.folder / 'ca.pem'}\n"
        f"certfile {pki.folder / 'server.pem'}\n"
        f"keyfile {pki.folder / 'server.key'}\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        f"acl_file {acl}\n"
    )
    with running_broker(extra) as broker:
        yield AwsLikeBroker(broker, tls_port)


@dataclass
class Observer:
    """A subscriber that sees everything published under iot_porter/."""

    client: mqtt.Client
    subscribed: threading.Event = field(default_factory=threading.Event)
    subscriptions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def payloads(self, topic: str) -> list[dict[str, Any]]:
        """Return the payloads seen on one topic, in arrival order."""
        with self.lock:
            return [payload for seen, payload in self.received if seen == topic]

    def topics(self) -> set[str]:
        """Return every topic a message arrived on."""
        with self.lock:
            return {topic for topic, _ in self.received}


@pytest.fixture
def observer(aws_broker: AwsLikeBroker) -> Iterator[Observer]:
    """Watch the broker with a persistent session that survives its restarts."""
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"observer-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv311,
        clean_session=False,
    )
    watcher = Observer(client)

    def on_connect(*_: Any) -> None:
        client.subscribe("iot_porter/#", qos=1)

    def on_subscribe(*_: Any) -> None:
        watcher.subscriptions += 1
        watcher.subscribed.set()

    def on_message(_client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        seen = (message.topic, json.loads(message.payload))
        with watcher.lock:
            # The broker resends its own unacknowledged deliveries to this
            # observer after a restart, flagged DUP; those copies are the
            # observer's leg, not something the mirror sent twice.
            if message.dup and seen in watcher.received:
                return
            watcher.received.append(seen)

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.reconnect_delay_set(0.05, 0.3)
    client.connect("127.0.0.1", aws_broker.broker.port)
    client.loop_start()
    assert watcher.subscribed.wait(WAIT_S)
    yield watcher
    client.disconnect()
    client.loop_stop()


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition until it holds; fail with a description after WAIT_S."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(POLL_S)


@pytest.fixture
async def cable(hass: HomeAssistant, aws_broker: AwsLikeBroker) -> AsyncIterator[Cable]:
    """Return the relay between the mirrors and the broker's TLS listener."""
    relay = Cable(free_port(), aws_broker.tls_port)
    await relay.start()
    yield relay
    await relay.cut()


type MirrorFactory = Callable[..., AwsMirror]


@pytest.fixture
async def make_mirror(
    hass: HomeAssistant, pki: Pki, cable: Cable
) -> AsyncIterator[MirrorFactory]:
    """Return a factory of mirrors aimed at the broker; stop them all afterwards."""
    made: list[AwsMirror] = []

    def make(
        thing: str = "front-door",
        *,
        identity: Issued | None = None,
        ca: str | None = None,
        port: int | None = None,
        store_key: str = "iot_porter.aws_mirror_test",
        **settings: Any,
    ) -> AwsMirror:
        identity = identity or pki.things[thing]
        config = AwsMirrorConfig(
            endpoint="127.0.0.1",
            port=port or cable.port,
            thing=thing,
            certificate=identity.certificate,
            private_key=identity.private_key,
            ca=ca or pki.ca.pem,
            reconnect_min_s=0.05,
            reconnect_max_s=0.3,
            **settings,
        )
        mirror = AwsMirror(hass, config, store_key)
        made.append(mirror)
        return mirror

    yield make
    for mirror in made:
        await mirror.async_stop()
