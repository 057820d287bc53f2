"""The integration accepts the contract's valid examples and rejects the rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from custom_components.iot_porter.display import (
    DisplayContent,
    content_id,
    display_payload,
)
from custom_components.iot_porter.protocol import (
    TOPIC_DISPLAY,
    RejectedMessage,
    decode,
    decode_events,
    decode_state,
    firmware_tuple,
    parse_topic,
    valid_base_topic,
)

from .conftest import example_payload, load_examples

VALID = load_examples("valid")
INVALID = load_examples("invalid")


@pytest.mark.parametrize("example", VALID, ids=[e["name"] for e in VALID])
def test_valid_example_decodes(example: dict[str, Any]) -> None:
    device_id, kind = parse_topic(
        "iot_porter", f"iot_porter/{example['device_id']}/{example['kind']}"
    )
    assert device_id == example["device_id"]
    payload = example_payload(example)
    if kind == "events":
        batch = decode_events(payload)
        assert [e.seq for e in batch.events] == [
            e["seq"] for e in example["payload"]["events"]
        ]
    elif kind == "state":
        state = decode_state(payload)
        assert state.screen.lines == example["payload"]["screen"]["lines"]
    else:
        assert decode(kind, payload)["id"] == example["payload"]["id"]


@pytest.mark.parametrize("example", INVALID, ids=[e["name"] for e in INVALID])
def test_invalid_example_is_rejected_with_its_kind(example: dict[str, Any]) -> None:
    with pytest.raises(RejectedMessage) as err:
        parse_topic(
            "iot_porter", f"iot_porter/{example['device_id']}/{example['kind']}"
        )
        decode(example["kind"], example_payload(example))
    assert err.value.kind.value == example["reject"]


def test_non_utf8_payload_is_rejected() -> None:
    with pytest.raises(RejectedMessage) as err:
        decode("events", b"\xff\xfe{}")
    assert err.value.kind.value == "invalid_encoding"


@pytest.mark.parametrize(
    ("base", "topic"),
    [
        ("iot_porter", "other/front-door/events"),
        ("iot_porter", "iot_porter/events"),
        ("home/porter", "home/porter/a/events"),
    ],
)
def test_topics_outside_the_tree_or_with_bad_ids_are_rejected(
    base: str, topic: str
) -> None:
    with pytest.raises(RejectedMessage):
        parse_topic(base, topic)


@pytest.mark.parametrize(
    ("base", "ok"),
    [
        ("iot_porter", True),
        ("home/a/b/c/d", True),
        ("home/a/b/c/d/e", False),
        ("home/+", False),
        ("/porter", False),
        ("porter/", False),
        ("", False),
    ],
)
def test_base_topic_keeps_topics_within_seven_slashes(base: str, ok: bool) -> None:
    assert valid_base_topic(base) is ok
    if ok:
        assert f"{base}/front-door/display".count("/") <= 7


def test_display_payload_round_trips_through_the_schema() -> None:
    content = DisplayContent(("Regn i kväll.", "8–12 °C"), "local", 3, 40, 41, 7)
    payload = display_payload(content, datetime.now().astimezone())
    data = decode(TOPIC_DISPLAY, payload)
    assert data["id"] == content_id(content)
    assert data["lines"] == ["Regn i kväll.", "8–12 °C"]
    assert (data["today"], data["total"], data["seq"], data["gen"]) == (3, 40, 41, 7)


def test_content_id_changes_with_text_and_counts_only() -> None:
    base = DisplayContent(("a",), "local", 1, 2, 3, 4)
    assert content_id(base) == content_id(DisplayContent(("a",), "openai", 1, 2, 9, 4))
    assert content_id(base) != content_id(DisplayContent(("b",), "local", 1, 2, 3, 4))
    assert content_id(base) != content_id(DisplayContent(("a",), "local", 2, 2, 3, 4))


def test_firmware_versions_parse() -> None:
    assert firmware_tuple("1.2.3") == (1, 2, 3)
    assert firmware_tuple("1.2.3-beta") is None
