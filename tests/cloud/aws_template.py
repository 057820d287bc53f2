"""Load the cloud template and deploy it on moto, CloudFormation where moto can."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import copy
import json
from pathlib import Path
import re
from typing import Any

import boto3
from cfnlint.decode import decode

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "cloud" / "template.yaml"
STACK_NAME = "iot-porter"
REGION = "eu-north-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"

SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def load_template() -> dict[str, Any]:
    """Return the template as plain data with long-form intrinsic functions."""
    template, matches = decode(str(TEMPLATE_PATH))
    if matches or template is None:
        raise ValueError(f"template does not parse: {matches}")
    return json.loads(json.dumps(template))


def moto_cloudformation_types() -> set[str]:
    """Return the resource types moto's CloudFormation can create."""
    from moto.cloudformation import parsing  # noqa: F401  (registers the models)
    from moto.core.common_models import CloudFormationModel

    types: set[str] = set()
    pending = list(CloudFormationModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if "cloudformation_type" in model.__dict__:
            types.add(model.cloudformation_type())
    return types


def walk(node: Any) -> Iterator[Any]:
    """Yield every dict, list and scalar inside a template fragment."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def referenced_names(node: Any) -> set[str]:
    """Return the logical names a fragment refers to by Ref, GetAtt or Sub."""
    names: set[str] = set()
    for item in walk(node):
        if not isinstance(item, dict):
            continue
        if "Ref" in item:
            names.add(item["Ref"])
        if "Fn::GetAtt" in item:
            names.add(item["Fn::GetAtt"][0])
        if "Fn::Sub" in item:
            text = item["Fn::Sub"]
            text = text[0] if isinstance(text, list) else text
            for variable in SUB_VARIABLE.findall(text):
                if not variable.startswith("!"):
                    names.add(variable.split(".")[0])
    return names


def split_by_moto_support(
    template: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Return a template of moto-supported resources and the resources left out."""
    supported = moto_cloudformation_types()
    filtered = copy.deepcopy(template)
    left_out = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] not in supported
    }
    for name in left_out:
        del filtered["Resources"][name]
    filtered["Outputs"] = {
        key: output
        for key, output in template.get("Outputs", {}).items()
        if not referenced_names(output) & set(left_out)
    }
    return filtered, left_out


class Resolver:
    """Resolve Ref, Fn::GetAtt and Fn::Sub against a stack deployed on moto."""

    def __init__(self, template: dict[str, Any], physical_ids: dict[str, str]) -> None:
        """Take parameter defaults and the physical ids of created resources."""
        self._template = template
        self._values: dict[str, str | int] = {
            name: int(spec["Default"]) if spec["Type"] == "Number" else spec["Default"]
            for name, spec in template.get("Parameters", {}).items()
        }
        self._values.update(
            {
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Region": REGION,
                "AWS::Partition": PARTITION,
                "AWS::StackName": STACK_NAME,
            }
        )
        self._values.update(physical_ids)

    def add(self, logical_name: str, physical_id: str) -> None:
        """Record the physical id of a resource created outside CloudFormation."""
        self._values[logical_name] = physical_id

    def ref(self, name: str) -> str | int:
        """Return what Ref gives for a parameter, pseudo parameter or resource."""
        return self._values[name]

    def get_att(self, name: str, attribute: str) -> str:
        """Return the attributes the template uses (Arn of known types)."""
        if attribute != "Arn":
            raise KeyError(f"{name}.{attribute} is not resolvable here")
        kind = self._template["Resources"][name]["Type"]
        physical = str(self._values[name])
        region_account = f"{REGION}:{ACCOUNT_ID}"
        arns = {
            "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{physical}",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{physical}",
            "AWS::DynamoDB::Table": (
                f"arn:{PARTITION}:dynamodb:{region_account}:table/{physical}"
            ),
            "AWS::Logs::LogGroup": (
                f"arn:{PARTITION}:logs:{region_account}:log-group:{physical}:*"
            ),
        }
        return arns[kind]

    def sub(self, text: str) -> str:
        """Substitute ${Name} and ${Name.Attr}; ${!Literal} becomes ${Literal}."""

        def replace(match: re.Match[str]) -> str:
            variable = match.group(1)
            if variable.startswith("!"):
                return "${" + variable[1:] + "}"
            if "." in variable and not variable.startswith("AWS::"):
                name, attribute = variable.split(".", 1)
                return self.get_att(name, attribute)
            return str(self.ref(variable))

        return SUB_VARIABLE.sub(replace, text)

    def resolve(self, node: Any) -> Any:
        """Return a fragment with every intrinsic function replaced by its value."""
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"}:
            return self.ref(node["Ref"])
        if set(node) == {"Fn::GetAtt"}:
            return self.get_att(*node["Fn::GetAtt"])
        if set(node) == {"Fn::Sub"}:
            if not isinstance(node["Fn::Sub"], str):
                raise ValueError("only the one-argument form of Fn::Sub is used")
            return self.sub(node["Fn::Sub"])
        return {key: self.resolve(value) for key, value in node.items()}


def lower_first_keys(node: Any) -> Any:
    """Turn CloudFormation's PascalCase keys into the IoT API's camelCase."""
    if isinstance(node, list):
        return [lower_first_keys(item) for item in node]
    if isinstance(node, dict):
        return {
            key[0].lower() + key[1:]: lower_first_keys(v) for key, v in node.items()
        }
    return node


def _create_topic_rule(props: dict[str, Any]) -> str:
    boto3.client("iot", region_name=REGION).create_topic_rule(
        ruleName=props["RuleName"],
        topicRulePayload=lower_first_keys(props["TopicRulePayload"]),
    )
    return str(props["RuleName"])


def _create_delivery_stream(props: dict[str, Any]) -> str:
    boto3.client("firehose", region_name=REGION).create_delivery_stream(**props)
    return str(props["DeliveryStreamName"])


def _create_glue_database(props: dict[str, Any]) -> str:
    boto3.client("glue", region_name=REGION).create_database(**props)
    return str(props["DatabaseInput"]["Name"])


def _create_glue_table(props: dict[str, Any]) -> str:
    boto3.client("glue", region_name=REGION).create_table(**props)
    return str(props["TableInput"]["Name"])


def _create_work_group(props: dict[str, Any]) -> str:
    boto3.client("athena", region_name=REGION).create_work_group(
        Name=props["Name"],
        Description=props["Description"],
        Configuration=props["WorkGroupConfiguration"],
    )
    return str(props["Name"])


def _create_named_query(props: dict[str, Any]) -> str:
    response = boto3.client("athena", region_name=REGION).create_named_query(**props)
    return str(response["NamedQueryId"])


# moto's CloudFormation cannot create these types, but its service APIs can;
# botocore validates each call against the real API's shapes.
API_CREATORS: dict[str, Callable[[dict[str, Any]], str]] = {
    "AWS::IoT::TopicRule": _create_topic_rule,
    "AWS::KinesisFirehose::DeliveryStream": _create_delivery_stream,
    "AWS::Glue::Database": _create_glue_database,
    "AWS::Glue::Table": _create_glue_table,
    "AWS::Athena::WorkGroup": _create_work_group,
    "AWS::Athena::NamedQuery": _create_named_query,
}


def creation_order(resources: dict[str, dict[str, Any]]) -> list[str]:
    """Return resource names so that each comes after those it refers to."""
    ordered: list[str] = []
    remaining = dict(resources)
    while remaining:
        ready = [
            name
            for name, resource in remaining.items()
            if not referenced_names(resource) & set(remaining)
        ]
        if not ready:
            raise ValueError(f"circular references among {sorted(remaining)}")
        for name in sorted(ready):
            ordered.append(name)
            del remaining[name]
    return ordered


def deploy(template: dict[str, Any]) -> tuple[dict[str, str], Resolver]:
    """Deploy on an active moto mock; return physical ids by logical name."""
    filtered, left_out = split_by_moto_support(template)
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=STACK_NAME,
        TemplateBody=json.dumps(filtered),
        Capabilities=["CAPABILITY_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack ended in {stack['StackStatus']}")
    # moto reports no physical id for some types (IoT things and policies).
    physical_ids = {
        item["LogicalResourceId"]: item["PhysicalResourceId"]
        for item in cloudformation.describe_stack_resources(StackName=STACK_NAME)[
            "StackResources"
        ]
        if "PhysicalResourceId" in item
    }
    resolver = Resolver(template, physical_ids)
    for name in creation_order(left_out):
        resource = left_out[name]
        props = resolver.resolve(resource["Properties"])
        physical_ids[name] = API_CREATORS[resource["Type"]](props)
        resolver.add(name, physical_ids[name])
    return physical_ids, resolver
