"""Deploy the cloud template on moto and check what landed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from fnmatch import fnmatchcase
import json
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from moto import mock_aws
import pytest

from tests.cloud.aws_template import (
    ACCOUNT_ID,
    REGION,
    Resolver,
    deploy,
    referenced_names,
    split_by_moto_support,
)
from tests.cloud.test_daily_query import rule_select, two_boards_one_hub

# moto's CloudFormation cannot create these; the harness creates them through
# the service APIs instead. A change here means moto or the template changed.
EXPECTED_LEFT_OUT = {
    "DoorEventRule": "AWS::IoT::TopicRule",
    "ForecastRule": "AWS::IoT::TopicRule",
    "DoorEventsStream": "AWS::KinesisFirehose::DeliveryStream",
    "GlueDatabase": "AWS::Glue::Database",
    "DoorEventsGlueTable": "AWS::Glue::Table",
    "AthenaWorkGroup": "AWS::Athena::WorkGroup",
    "DoorEventsPerDayQuery": "AWS::Athena::NamedQuery",
}
THING_VARIABLE = "${iot:Connection.Thing.ThingName}"
# The default thing: the Home Assistant that mirrors every board.
HUB = "home-assistant"
IOT_ARN = f"arn:aws:iot:{REGION}:{ACCOUNT_ID}"


@pytest.fixture(scope="module")
def deployed(template: dict[str, Any]) -> Iterator[tuple[dict[str, str], Resolver]]:
    """Deploy the template once on moto for every test in this module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_CONFIG_FILE", "/dev/null")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        with mock_aws():
            yield deploy(template)


def thing_policy() -> dict[str, Any]:
    """Return the deployed thing policy document."""
    iot = boto3.client("iot", region_name=REGION)
    text = iot.get_policy(policyName="iot_porter_thing")["policyDocument"]
    try:
        return dict(json.loads(text))
    except json.JSONDecodeError:
        # moto's CloudFormation stores the document as a Python dict repr.
        return dict(ast.literal_eval(text))


def policy_allows(
    policy: dict[str, Any], action: str, resource: str, thing: str
) -> bool:
    """Evaluate an allow-only IoT policy for a certificate attached to thing."""
    for statement in policy["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if statement["Effect"] != "Allow" or action not in actions:
            continue
        for pattern in resources:
            if fnmatchcase(resource, pattern.replace(THING_VARIABLE, thing)):
                return True
    return False


def test_only_the_expected_resource_types_need_the_api_fallback(
    template: dict[str, Any],
) -> None:
    filtered, left_out = split_by_moto_support(template)
    assert {name: r["Type"] for name, r in left_out.items()} == EXPECTED_LEFT_OUT
    # The CloudFormation part must stand alone: nothing in it may point at a
    # resource that only the API fallback creates.
    assert not referenced_names(filtered) & set(left_out)


def test_every_resource_was_created(
    template: dict[str, Any], deployed: tuple[dict[str, str], Resolver]
) -> None:
    physical_ids, _ = deployed
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    created = {
        item["LogicalResourceId"]
        for item in cloudformation.describe_stack_resources(StackName="iot-porter")[
            "StackResources"
        ]
        if item["ResourceStatus"] == "CREATE_COMPLETE"
    }
    assert created | set(physical_ids) == set(template["Resources"])


def test_thing_exists_with_the_default_name(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    iot = boto3.client("iot", region_name=REGION)
    assert iot.describe_thing(thingName=HUB)["thingName"] == HUB


def test_thing_policy_limits_a_hub_to_its_own_topics(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    policy = thing_policy()

    def allows(action: str, resource: str) -> bool:
        return policy_allows(policy, action, f"{IOT_ARN}:{resource}", HUB)

    assert allows("iot:Connect", f"client/{HUB}")
    assert not allows("iot:Connect", "client/cabin")
    # Every board's events go out under the hub's own topics.
    assert allows("iot:Publish", f"topic/iot_porter/{HUB}/door")
    assert allows("iot:RetainPublish", f"topic/iot_porter/{HUB}/forecast")
    # Not under another hub's topics, nor under a board's id.
    assert not allows("iot:Publish", "topic/iot_porter/cabin/door")
    assert not allows("iot:RetainPublish", "topic/iot_porter/cabin/forecast")
    assert not allows("iot:Publish", "topic/iot_porter/front-door/door")
    assert not allows("iot:Publish", f"topic/other/{HUB}/door")
    assert not allows("iot:Publish", f"topic/$aws/things/{HUB}/shadow/update")
    assert allows("iot:Subscribe", f"topicfilter/iot_porter/{HUB}/forecast")
    assert not allows("iot:Subscribe", "topicfilter/iot_porter/+/forecast")
    assert not allows("iot:Subscribe", "topicfilter/iot_porter/#")


def test_thing_policy_needs_the_certificate_attached_to_the_thing(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    policy = thing_policy()
    connect = [s for s in policy["Statement"] if s["Action"] == "iot:Connect"]
    assert connect[0]["Condition"] == {
        "Bool": {"iot:Connection.Thing.IsAttached": "true"}
    }
    assert "*" not in json.dumps(policy).replace(f"{THING_VARIABLE}/*", "")


def test_door_event_rule_stores_to_dynamodb_and_firehose_with_newlines(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    physical_ids, _ = deployed
    iot = boto3.client("iot", region_name=REGION)
    rule = iot.get_topic_rule(ruleName="iot_porter_door_event")["rule"]
    assert rule["sql"].endswith("FROM 'iot_porter/+/door'")
    assert rule["awsIotSqlVersion"] == "2016-03-23"
    assert not rule["ruleDisabled"]
    dynamodb_action, firehose_action = rule["actions"]
    assert (
        dynamodb_action["dynamoDBv2"]["putItem"]["tableName"]
        == (physical_ids["DoorEventsTable"])
    )
    assert (
        firehose_action["firehose"]["deliveryStreamName"]
        == (physical_ids["DoorEventsStream"])
    )
    assert firehose_action["firehose"]["separator"] == "\n"
    error_action = rule["errorAction"]["s3"]
    assert error_action["bucketName"] == physical_ids["DataBucket"]
    assert error_action["key"].startswith("errors/rules/")


def test_forecast_rule_stores_to_the_forecast_table(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    physical_ids, _ = deployed
    iot = boto3.client("iot", region_name=REGION)
    rule = iot.get_topic_rule(ruleName="iot_porter_forecast")["rule"]
    assert rule["sql"].endswith("FROM 'iot_porter/+/forecast'")
    assert [list(action) for action in rule["actions"]] == [["dynamoDBv2"]]
    assert (
        rule["actions"][0]["dynamoDBv2"]["putItem"]["tableName"]
        == (physical_ids["ForecastsTable"])
    )


def test_door_events_are_keyed_by_identity_and_indexed_by_time(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    physical_ids, _ = deployed
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = dynamodb.describe_table(TableName=physical_ids["DoorEventsTable"])["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "device", "KeyType": "HASH"},
        {"AttributeName": "event", "KeyType": "RANGE"},
    ]
    (index,) = table["LocalSecondaryIndexes"]
    assert index["KeySchema"] == [
        {"AttributeName": "device", "KeyType": "HASH"},
        {"AttributeName": "received", "KeyType": "RANGE"},
    ]
    forecasts = dynamodb.describe_table(TableName=physical_ids["ForecastsTable"])
    assert forecasts["Table"]["KeySchema"] == [
        {"AttributeName": "device", "KeyType": "HASH"},
        {"AttributeName": "generated", "KeyType": "RANGE"},
    ]


def test_two_boards_of_one_hub_keep_separate_histories_in_dynamodb(
    template: dict[str, Any], deployed: tuple[dict[str, str], Resolver]
) -> None:
    physical_ids, _ = deployed
    table = boto3.resource("dynamodb", region_name=REGION).Table(
        physical_ids["DoorEventsTable"]
    )
    select = rule_select(template, "DoorEventRule")
    deliveries = two_boards_one_hub()
    # What the rule's DynamoDBv2 action does: one PutItem per rule output.
    for item in deliveries:
        output = select.apply(item)
        assert output is not None
        table.put_item(Item=output)

    def history(device: str) -> list[tuple[str, str]]:
        items = table.query(
            IndexName="by_received", KeyConditionExpression=Key("device").eq(device)
        )["Items"]
        return [(str(i["event"]), str(i["thing"])) for i in items]

    # Redeliveries overwrote themselves; equal gen#seq stayed apart per board.
    assert history("front-door") == [("7#1", HUB), ("7#2", HUB), ("7#3", HUB)]
    assert history("garage") == [(f"7#{n}", HUB) for n in range(1, 5)]
    assert history(HUB) == []


def test_firehose_writes_gzip_objects_under_daily_prefixes(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    physical_ids, _ = deployed
    firehose = boto3.client("firehose", region_name=REGION)
    stream = firehose.describe_delivery_stream(
        DeliveryStreamName=physical_ids["DoorEventsStream"]
    )["DeliveryStreamDescription"]
    (destination,) = stream["Destinations"]
    s3 = destination["ExtendedS3DestinationDescription"]
    assert s3["BucketARN"] == f"arn:aws:s3:::{physical_ids['DataBucket']}"
    assert s3["Prefix"] == "door-events/dt=!{timestamp:yyyy-MM-dd}/"
    assert "!{firehose:error-output-type}" in s3["ErrorOutputPrefix"]
    assert s3["CompressionFormat"] == "GZIP"


def test_glue_table_projects_the_firehose_date_prefix(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    physical_ids, _ = deployed
    glue = boto3.client("glue", region_name=REGION)
    table = glue.get_table(DatabaseName="iot_porter", Name="door_events")["Table"]
    bucket = physical_ids["DataBucket"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{bucket}/door-events/"
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    parameters = table["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.dt.format"] == "yyyy-MM-dd"
    assert parameters["storage.location.template"] == (
        f"s3://{bucket}/door-events/dt=${{dt}}/"
    )


def test_named_query_runs_in_the_workgroup_over_the_glue_database(
    deployed: tuple[dict[str, str], Resolver],
) -> None:
    physical_ids, _ = deployed
    athena = boto3.client("athena", region_name=REGION)
    query = athena.get_named_query(NamedQueryId=physical_ids["DoorEventsPerDayQuery"])
    assert query["NamedQuery"]["Database"] == "iot_porter"
    assert query["NamedQuery"]["WorkGroup"] == "iot_porter"
    assert '"iot_porter"."door_events"' in query["NamedQuery"]["QueryString"]
    work_group = athena.get_work_group(WorkGroup="iot_porter")["WorkGroup"]
    output = work_group["Configuration"]["ResultConfiguration"]["OutputLocation"]
    assert output == f"s3://{physical_ids['DataBucket']}/athena-results/"
