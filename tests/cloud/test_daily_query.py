"""Run the template's per-day Athena query on Firehose-shaped sample data."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
import gzip
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.cloud.aws_template import TEMPLATE_PATH, Resolver
from tests.cloud.rule_pipeline import Delivery, RuleSelect, write_firehose_objects

ATHENA_SQL_PATH = TEMPLATE_PATH.parent / "athena" / "door_events_per_day.sql"
ATHENA_TABLE = '"iot_porter"."door_events"'
# Athena's Trino has from_unixtime; DuckDB gets a macro with the same UTC result.
DUCKDB_FROM_UNIXTIME = "CREATE MACRO from_unixtime(seconds) AS epoch_ms(seconds * 1000)"
GLUE_TO_DUCKDB = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT"}
PLAUSIBLE_FROM_S = 1704067200  # 2024-01-01T00:00:00Z
FRONT_GEN = 2761094
# The thing is the Home Assistant that mirrors every board; its default name.
HUB = "home-assistant"


def utc(text: str) -> int:
    """Return Unix seconds for an ISO time in UTC."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def door(
    device: str, gen: int, seq: int, ts: int | None, received: int
) -> dict[str, Any]:
    """Return a door event payload exactly as the mirror publishes it."""
    return {
        "v": 1,
        "device": device,
        "gen": gen,
        "seq": seq,
        "ts": ts,
        "received": received,
        "total": 3400 + seq,
        "today": seq % 20,
    }


def delivery(
    payload: dict[str, Any],
    lag_s: float,
    prefix: str = "iot_porter",
    thing: str = HUB,
) -> Delivery:
    """Return the message as IoT Core sees it, lag_s after Home Assistant got it."""
    return Delivery(
        topic=f"{prefix}/{thing}/door",
        client_id=thing,
        payload=payload,
        arrival_ms=int((payload["received"] + lag_s) * 1000),
    )


def sample_deliveries() -> list[Delivery]:
    """Return mirrored messages covering midnight, duplicates and bad clocks."""
    deliveries: list[Delivery] = []
    for seq in range(1, 6):
        ts = utc(f"2025-12-02T0{seq}:15:00")
        deliveries.append(delivery(door("front-door", FRONT_GEN, seq, ts, ts + 2), 0.4))
    # QoS 1 redelivery of seq 3, ten minutes later, lands in another object.
    deliveries.append(delivery(deliveries[2].payload, 600))
    # Door moved just before midnight; Home Assistant got it after midnight.
    late = door(
        "front-door",
        FRONT_GEN,
        6,
        utc("2025-12-02T23:59:50"),
        utc("2025-12-03T00:00:20"),
    )
    deliveries.append(delivery(late, 0.5))
    # The same event replayed hours later from the mirror's queue.
    deliveries.append(delivery(late, 8 * 3600))
    # No board clock: dated by receive time, just before midnight.
    deliveries.append(
        delivery(door("front-door", FRONT_GEN, 7, None, utc("2025-12-02T23:59:58")), 4)
    )
    # Board clock from 1970 and one in the future: both dated by receive time.
    deliveries.append(
        delivery(door("front-door", FRONT_GEN, 8, 1000, utc("2025-12-03T10:00:00")), 1)
    )
    deliveries.append(
        delivery(
            door(
                "front-door",
                FRONT_GEN,
                9,
                utc("2025-12-05T10:00:00"),
                utc("2025-12-03T11:00:00"),
            ),
            1,
        )
    )
    # Flash erased: a new generation reuses sequence numbers 1 and 2.
    for seq in (1, 2):
        ts = utc(f"2025-12-03T1{seq}:30:00")
        deliveries.append(delivery(door("front-door", 99, seq, ts, ts + 1), 0.2))
    # A duplicate restamped by Home Assistant after midnight keeps its first day.
    stamped = door("front-door", FRONT_GEN, 10, None, utc("2025-12-03T23:59:59"))
    deliveries.append(delivery(stamped, 1))
    deliveries.append(delivery({**stamped, "received": utc("2025-12-04T00:00:30")}, 1))
    for seq in (100, 101, 102):
        ts = utc(f"2025-12-03T08:0{seq - 100}:00")
        deliveries.append(delivery(door("back-door", 5, seq, ts, ts + 3), 0.3))
    deliveries.append(delivery(deliveries[-2].payload, 30))
    first_of_day = door(
        "back-door", 5, 103, utc("2025-12-04T00:00:01"), utc("2025-12-04T00:00:03")
    )
    deliveries.append(delivery(first_of_day, 0.1))
    # Not door events of this deployment: the rule must not pick them up.
    deliveries.append(
        delivery(door("front-door", FRONT_GEN, 50, None, late["ts"]), 1, "x")
    )
    return deliveries


def expected_counts(deliveries: list[Delivery]) -> Counter[tuple[str, date]]:
    """Count events per device and UTC day the way Home Assistant dates them."""
    first_time: dict[tuple[str, int, int], int] = {}
    for item in deliveries:
        if not item.topic.startswith("iot_porter/"):
            continue
        payload = item.payload
        ts, received = payload["ts"], payload["received"]
        plausible = ts is not None and PLAUSIBLE_FROM_S <= ts <= received
        when = ts if plausible else received
        key = (payload["device"], payload["gen"], payload["seq"])
        first_time[key] = min(when, first_time.get(key, when))
    return Counter(
        (device, datetime.fromtimestamp(when, UTC).date())
        for (device, _, _), when in first_time.items()
    )


def template_query(template: dict[str, Any]) -> str:
    """Return the named query's SQL with the template's default parameters."""
    resolver = Resolver(template, {})
    resource = template["Resources"]["DoorEventsPerDayQuery"]
    return str(resolver.resolve(resource["Properties"]["QueryString"]))


def for_duckdb(athena_sql: str) -> str:
    """Point the query at the local view; the only textual change made."""
    assert athena_sql.count(ATHENA_TABLE) == 1
    return athena_sql.replace(ATHENA_TABLE, "door_events")


def glue_columns(template: dict[str, Any]) -> dict[str, str]:
    """Return the Glue table's columns as DuckDB types."""
    table = template["Resources"]["DoorEventsGlueTable"]["Properties"]["TableInput"]
    return {
        column["Name"]: GLUE_TO_DUCKDB[column["Type"]]
        for column in table["StorageDescriptor"]["Columns"]
    }


def rule_select(template: dict[str, Any], rule_name: str) -> RuleSelect:
    """Return the evaluator of a topic rule's SELECT with default parameters."""
    rule = template["Resources"][rule_name]["Properties"]["TopicRulePayload"]
    return RuleSelect(Resolver(template, {}).resolve(rule["Sql"]))


def write_through_door_rule(
    template: dict[str, Any], deliveries: list[Delivery], root: Path
) -> Path:
    """Pass messages through the door rule into a Firehose-shaped tree."""
    rule = template["Resources"]["DoorEventRule"]["Properties"]["TopicRulePayload"]
    select = rule_select(template, "DoorEventRule")
    (firehose,) = [a["Firehose"] for a in rule["Actions"] if "Firehose" in a]
    records = []
    for item in deliveries:
        output = select.apply(item)
        if output is not None:
            records.append((item.arrival_ms, output))
    write_firehose_objects(root, records, firehose["Separator"])
    return root


def read_records(root: Path) -> list[dict[str, Any]]:
    """Return every record in the Firehose-shaped tree, in object order."""
    return [
        json.loads(line)
        for path in sorted(root.rglob("*.gz"))
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    ]


def two_boards_one_hub() -> list[Delivery]:
    """Return one Home Assistant mirroring two boards whose event ids coincide."""
    deliveries: list[Delivery] = []
    # Both boards are on generation 7 and number their events from 1, so
    # only the board id tells their events apart.
    for device, times in (
        ("front-door", ["2025-12-02T07:00:00", "2025-12-02T18:00:00"]),
        ("garage", ["2025-12-02T07:05:00", "2025-12-02T19:00:00"]),
    ):
        for seq, text in enumerate(times, start=1):
            deliveries.append(delivery(door(device, 7, seq, utc(text), utc(text)), 1))
    for device, seq, text in (
        ("garage", 3, "2025-12-03T08:00:00"),
        ("garage", 4, "2025-12-03T09:00:00"),
        ("front-door", 3, "2025-12-03T12:00:00"),
    ):
        deliveries.append(delivery(door(device, 7, seq, utc(text), utc(text)), 1))
    # Redeliveries of one event of each board count once for their own board.
    deliveries.append(delivery(deliveries[0].payload, 900))
    deliveries.append(delivery(deliveries[2].payload, 900))
    return deliveries


@pytest.fixture
def firehose_root(template: dict[str, Any], tmp_path: Path) -> Path:
    """Write the sample through the door rule into a Firehose-shaped tree."""
    return write_through_door_rule(template, sample_deliveries(), tmp_path)


def run_query(template: dict[str, Any], root: Path) -> list[tuple[str, date, int]]:
    """Run the template's query with DuckDB over the sample objects."""
    columns = ", ".join(
        f"'{name}': '{kind}'" for name, kind in glue_columns(template).items()
    )
    connection = duckdb.connect()
    connection.execute(DUCKDB_FROM_UNIXTIME)
    connection.execute(
        "CREATE VIEW door_events AS SELECT * FROM read_json("
        f"'{root}/door-events/dt=*/*.gz', format = 'newline_delimited', "
        f"hive_partitioning = true, columns = {{{columns}}})"
    )
    rows = connection.execute(for_duckdb(template_query(template))).fetchall()
    connection.close()
    return [(device, day, count) for device, day, count in rows]


def test_query_counts_each_event_once_on_its_own_day(
    template: dict[str, Any], firehose_root: Path
) -> None:
    rows = run_query(template, firehose_root)
    assert rows == [
        ("front-door", date(2025, 12, 2), 7),
        ("back-door", date(2025, 12, 3), 3),
        ("front-door", date(2025, 12, 3), 5),
        ("back-door", date(2025, 12, 4), 1),
    ]
    expected = expected_counts(sample_deliveries())
    assert Counter({(d, day): n for d, day, n in rows}) == expected


def test_sample_holds_duplicates_and_crosses_midnight(
    template: dict[str, Any], firehose_root: Path
) -> None:
    lines = read_records(firehose_root)
    assert len(lines) > sum(n for *_, n in run_query(template, firehose_root))
    partitions = {path.parent.name for path in firehose_root.rglob("*.gz")}
    assert partitions == {"dt=2025-12-02", "dt=2025-12-03", "dt=2025-12-04"}
    late = [line for line in lines if line["event"] == f"{FRONT_GEN}#6"]
    assert len(late) == 2


def test_event_received_after_midnight_sits_in_the_next_days_partition(
    firehose_root: Path,
) -> None:
    next_day = firehose_root / "door-events" / "dt=2025-12-03"
    records = [
        json.loads(line)
        for path in next_day.glob("*.gz")
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    ]
    assert f"{FRONT_GEN}#6" in {record["event"] for record in records}


def test_rule_output_has_exactly_the_glue_columns(template: dict[str, Any]) -> None:
    select = rule_select(template, "DoorEventRule")
    output = select.apply(sample_deliveries()[0])
    assert output is not None
    assert set(output) == set(glue_columns(template))
    assert output["device"] == "front-door"
    assert output["thing"] == HUB
    assert output["event"] == f"{FRONT_GEN}#1"


def test_one_hub_mirroring_two_boards_counts_each_board_per_day(
    template: dict[str, Any], tmp_path: Path
) -> None:
    deliveries = two_boards_one_hub()
    assert {item.client_id for item in deliveries} == {HUB}
    assert {item.topic for item in deliveries} == {f"iot_porter/{HUB}/door"}
    root = write_through_door_rule(template, deliveries, tmp_path)
    rows = run_query(template, root)
    assert rows == [
        ("front-door", date(2025, 12, 2), 2),
        ("garage", date(2025, 12, 2), 2),
        ("front-door", date(2025, 12, 3), 1),
        ("garage", date(2025, 12, 3), 2),
    ]
    assert Counter({(d, day): n for d, day, n in rows}) == expected_counts(deliveries)


def test_door_rule_output_names_the_board_and_the_hub(
    template: dict[str, Any], tmp_path: Path
) -> None:
    root = write_through_door_rule(template, two_boards_one_hub(), tmp_path)
    records = read_records(root)
    assert {(r["device"], r["thing"]) for r in records} == {
        ("front-door", HUB),
        ("garage", HUB),
    }
    # The same gen#seq exists for both boards; the board keeps them apart.
    assert {r["device"] for r in records if r["event"] == "7#1"} == {
        "front-door",
        "garage",
    }


def test_a_second_hub_is_told_apart_by_the_thing_column(
    template: dict[str, Any],
) -> None:
    payload = door(
        "cabin-door", 3, 1, utc("2025-12-02T10:00:00"), utc("2025-12-02T10:00:01")
    )
    output = rule_select(template, "DoorEventRule").apply(
        delivery(payload, 1, thing="cabin")
    )
    assert output is not None
    assert (output["device"], output["thing"]) == ("cabin-door", "cabin")


def test_forecast_rule_output_is_keyed_by_board_and_names_the_hub(
    template: dict[str, Any],
) -> None:
    payload = {
        "v": 1,
        "device": "garage",
        "id": "3fa2c1d0",
        "lines": ["Dry until 18:00", "Rain tonight"],
        "source": "local",
        "model": None,
        "generated": utc("2025-12-02T06:00:00"),
    }
    forecast = Delivery(
        topic=f"iot_porter/{HUB}/forecast",
        client_id=HUB,
        payload=payload,
        arrival_ms=(payload["generated"] + 2) * 1000,
    )
    select = rule_select(template, "ForecastRule")
    output = select.apply(forecast)
    assert output is not None
    assert output == {
        **payload,
        "thing": HUB,
        "ingested_ms": forecast.arrival_ms,
    }
    assert (
        select.apply(
            delivery(door("garage", 7, 1, None, utc("2025-12-02T10:00:01")), 1)
        )
        is None
    )


def test_firehose_objects_are_one_json_object_per_line(firehose_root: Path) -> None:
    for path in firehose_root.rglob("*.gz"):
        text = gzip.decompress(path.read_bytes()).decode()
        assert text.endswith("\n")
        for line in text.splitlines():
            assert isinstance(json.loads(line), dict)


def test_without_the_separator_records_run_together(
    template: dict[str, Any], tmp_path: Path
) -> None:
    select = rule_select(template, "DoorEventRule")
    first_arrival_ms = sample_deliveries()[0].arrival_ms
    records = [
        (first_arrival_ms, output)
        for item in sample_deliveries()[:3]
        if (output := select.apply(item)) is not None
    ]
    (path,) = write_firehose_objects(tmp_path, records, "")
    text = gzip.decompress(path.read_bytes()).decode()
    assert text.count("}{") == 2
    assert len(text.splitlines()) == 1


def test_shipped_sql_file_matches_the_named_query(template: dict[str, Any]) -> None:
    assert ATHENA_SQL_PATH.read_text() == template_query(template)
