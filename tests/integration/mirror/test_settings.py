"""Checks the options flow relies on: pasted PEMs, AWS names and limits, ALPN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import socket
import ssl
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
import pytest

from custom_components.iot_porter.aws_certs import (
    CONF_AWS_CA,
    CONF_AWS_CERTIFICATE,
    CONF_AWS_PRIVATE_KEY,
    check_pems,
)
from custom_components.iot_porter.aws_mirror import (
    ALPN_PROTOCOL,
    CONF_AWS_ENABLED,
    CONF_AWS_ENDPOINT,
    CONF_AWS_PORT,
    CONF_AWS_THING,
    CONF_AWS_TOPIC_PREFIX,
    AwsMirrorConfig,
    build_ssl_context,
    check_publish_limits,
    valid_client_id,
    validate_options,
)
from tests.broker import free_port

from .conftest import Pki


def test_matching_certificate_and_key_pass_with_their_expiry(pki: Pki) -> None:
    thing = pki.things["front-door"]
    check = check_pems(thing.certificate, thing.private_key, pki.ca.pem)

    assert check.ok
    assert check.errors == {}
    assert check.expires is not None
    assert check.expires - datetime.now(UTC) > timedelta(days=300)
    assert check.subject == "CN=front-door"


def test_ec_key_is_accepted(pki: Pki) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    thing = pki.ca.issue("garage", key=key)

    assert check_pems(thing.certificate, thing.private_key, pki.ca.pem).ok


def test_each_broken_part_gets_its_own_error(pki: Pki) -> None:
    thing = pki.things["front-door"]

    assert check_pems("not a pem", thing.private_key, pki.ca.pem).errors == {
        CONF_AWS_CERTIFICATE: "invalid_certificate"
    }
    assert check_pems(thing.certificate, "-----BEGIN", pki.ca.pem).errors == {
        CONF_AWS_PRIVATE_KEY: "invalid_private_key"
    }
    assert check_pems(thing.certificate, thing.private_key, "").errors == {
        CONF_AWS_CA: "invalid_ca"
    }
    other_key = pki.things["back-door"].private_key
    assert check_pems(thing.certificate, other_key, pki.ca.pem).errors == {
        CONF_AWS_PRIVATE_KEY: "key_mismatch"
    }


def test_missing_certificate_and_key_are_refused(pki: Pki) -> None:
    errors = check_pems("", "", pki.ca.pem).errors

    assert errors == {
        CONF_AWS_CERTIFICATE: "invalid_certificate",
        CONF_AWS_PRIVATE_KEY: "invalid_private_key",
    }


def test_encrypted_and_unsupported_keys_are_refused(pki: Pki) -> None:
    thing = pki.things["front-door"]
    key = serialization.load_pem_private_key(thing.private_key.encode(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    ed_key = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    for pem in (encrypted, ed_key):
        errors = check_pems(thing.certificate, pem, pki.ca.pem).errors
        assert errors == {CONF_AWS_PRIVATE_KEY: "invalid_private_key"}


@pytest.mark.parametrize(("valid_from_days", "valid_until_days"), [(-400, -1), (2, 30)])
def test_expired_or_not_yet_valid_certificate_is_refused(
    pki: Pki, valid_from_days: int, valid_until_days: int
) -> None:
    now = datetime.now(UTC)
    thing = pki.ca.issue(
        "front-door",
        valid_from=now + timedelta(days=valid_from_days),
        valid_until=now + timedelta(days=valid_until_days),
    )

    check = check_pems(thing.certificate, thing.private_key, pki.ca.pem)

    assert check.errors == {CONF_AWS_CERTIFICATE: "certificate_expired"}
    assert check.expires is not None


@pytest.mark.parametrize(
    ("thing", "ok"),
    [
        ("front-door", True),
        ("Front_Door:2", True),
        ("x" * 128, True),
        ("", False),
        ("x" * 129, False),
        ("front door", False),
        ("$aws", False),
        ("dörr", False),
        ("front/door", False),
    ],
)
def test_thing_name_follows_aws_client_id_rules(thing: str, ok: bool) -> None:
    assert valid_client_id(thing) is ok


def options(pki: Pki, **changes: object) -> dict[str, object]:
    """Return complete, valid mirror options with some fields changed."""
    thing = pki.things["front-door"]
    return {
        CONF_AWS_ENABLED: True,
        CONF_AWS_ENDPOINT: "a1b2c3d4e5f6g7-ats.iot.eu-north-1.amazonaws.com",
        CONF_AWS_PORT: 8883,
        CONF_AWS_THING: "front-door",
        CONF_AWS_TOPIC_PREFIX: "iot_porter",
        CONF_AWS_CERTIFICATE: thing.certificate,
        CONF_AWS_PRIVATE_KEY: thing.private_key,
        CONF_AWS_CA: pki.ca.pem,
    } | changes


def test_valid_options_build_a_config(pki: Pki) -> None:
    errors, expires = validate_options(options(pki, **{CONF_AWS_PORT: 443}))
    config = AwsMirrorConfig.from_options(options(pki, **{CONF_AWS_PORT: 443}))

    assert errors == {}
    assert expires is not None
    assert config is not None
    assert config.port == 443
    assert config.topic("door") == "iot_porter/front-door/door"
    assert (
        AwsMirrorConfig.from_options(options(pki, **{CONF_AWS_ENABLED: False})) is None
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (CONF_AWS_PORT, 1883, "invalid_port"),
        (CONF_AWS_THING, "front door", "invalid_thing_name"),
        (CONF_AWS_TOPIC_PREFIX, "a/b/c/d/e/f", "invalid_topic_prefix"),
        (CONF_AWS_TOPIC_PREFIX, "iot_porter/#", "invalid_topic_prefix"),
        (CONF_AWS_TOPIC_PREFIX, "/iot_porter", "invalid_topic_prefix"),
        (CONF_AWS_ENDPOINT, "https://example.com", "invalid_endpoint"),
    ],
)
def test_options_aws_would_refuse_are_reported_per_field(
    pki: Pki, field: str, value: object, error: str
) -> None:
    errors, _ = validate_options(options(pki, **{field: value}))

    assert errors == {field: error}
    if field != CONF_AWS_PORT:
        with pytest.raises(ValueError, match=error):
            AwsMirrorConfig.from_options(options(pki, **{field: value}))


@pytest.mark.parametrize(
    ("topic", "size", "qos", "allowed"),
    [
        ("a/b/c/d/e/f/g/h", 10, 1, True),
        ("a/b/c/d/e/f/g/h/i", 10, 1, False),
        ("t" * 256, 10, 1, True),
        ("t" * 257, 10, 1, False),
        ("iot_porter/front-door/door", 128 * 1024, 1, True),
        ("iot_porter/front-door/door", 128 * 1024 + 1, 1, False),
        ("iot_porter/front-door/door", 10, 2, False),
        ("iot_porter/+/door", 10, 1, False),
        ("$aws/things/x", 10, 1, False),
    ],
)
def test_publish_limits_match_aws_iot_core(
    topic: str, size: int, qos: int, allowed: bool
) -> None:
    assert (check_publish_limits(topic, b"x" * size, qos) is None) is allowed


def test_port_443_offers_the_aws_mqtt_alpn_protocol(
    pki: Pki, socket_enabled: None
) -> None:
    server_cert = pki.ca.issue("localhost", server=True)
    cert_path, key_path = server_cert.write(pki.folder, "alpn-server")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    server_context.load_verify_locations(cadata=pki.ca.pem)
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.set_alpn_protocols([ALPN_PROTOCOL])
    listener = socket.create_server(("127.0.0.1", free_port()))
    port = listener.getsockname()[1]
    seen: dict[str, object] = {}

    def serve() -> None:
        connection, _ = listener.accept()
        with server_context.wrap_socket(connection, server_side=True) as tls:
            seen["alpn"] = tls.selected_alpn_protocol()
            seen["client"] = tls.getpeercert()["subject"]

    thread = threading.Thread(target=serve)
    thread.start()
    thing = pki.things["front-door"]
    config = AwsMirrorConfig(
        endpoint="127.0.0.1",
        port=443,
        thing="front-door",
        certificate=thing.certificate,
        private_key=thing.private_key,
        ca=pki.ca.pem,
    )

    context = build_ssl_context(config)
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        seen["client_alpn"] = tls.selected_alpn_protocol()
    thread.join(5)
    listener.close()

    assert seen["alpn"] == ALPN_PROTOCOL
    assert seen["client_alpn"] == ALPN_PROTOCOL
    assert seen["client"] == ((("commonName", "front-door"),),)
