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
    payload: dict[str, Any], lag_s: float, prefix: str = "iot_porter"
) -> Delivery:
    """Return the message as IoT Core sees it, lag_s after Home Assistant got it."""
    return Delivery(
        topic=f"{prefix}/{payload['device']}/door",
        client_id=payload["device"],
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


@pytest.fixture
def firehose_root(template: dict[str, Any], tmp_path: Path) -> Path:
    """Write the sample through the door rule into a Firehose-shaped tree."""
    rule = template["Resources"]["DoorEventRule"]["Properties"]["TopicRulePayload"]
    select = RuleSelect(Resolver(template, {}).resolve(rule["Sql"]))
    (firehose,) = [a["Firehose"] for a in rule["Actions"] if "Firehose" in a]
    records = []
    for item in sample_deliveries():
        output = select.apply(item)
        if output is not None:
            records.append((item.arrival_ms, output))
    write_firehose_objects(tmp_path, records, firehose["Separator"])
    return tmp_path


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
    lines = [
        json.loads(line)
        for path in sorted(firehose_root.rglob("*.gz"))
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    ]
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
    rule = template["Resources"]["DoorEventRule"]["Properties"]["TopicRulePayload"]
    select = RuleSelect(Resolver(template, {}).resolve(rule["Sql"]))
    output = select.apply(sample_deliveries()[0])
    assert output is not None
    assert set(output) == set(glue_columns(template))
    assert output["device"] == "front-door"
    assert output["event"] == f"{FRONT_GEN}#1"


def test_firehose_objects_are_one_json_object_per_line(firehose_root: Path) -> None:
    for path in firehose_root.rglob("*.gz"):
        text = gzip.decompress(path.read_bytes()).decode()
        assert text.endswith("\n")
        for line in text.splitlines():
            assert isinstance(json.loads(line), dict)


def test_without_the_separator_records_run_together(
    template: dict[str, Any], tmp_path: Path
) -> None:
    rule = template["Resources"]["DoorEventRule"]["Properties"]["TopicRulePayload"]
    select = RuleSelect(Resolver(template, {}).resolve(rule["Sql"]))
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
