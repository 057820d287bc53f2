"""Check the cloud template with cfn-lint and for retired AWS services."""

from __future__ import annotations

from typing import Any

from cfnlint.api import ManualArgs, lint, lint_file

from tests.cloud.aws_template import TEMPLATE_PATH

# Regions that have IoT Core, Firehose, Glue, Athena and Quick Sight.
LINT_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "eu-north-1"]
LINT_CONFIG = ManualArgs(include_checks=["I"], regions=LINT_REGIONS)

RETIRED_SERVICE_PREFIXES = (
    "AWS::IoTAnalytics::",
    "AWS::DataPipeline::",
    "AWS::IoTEvents::",
    "AWS::Timestream::",
)


def test_template_lints_clean_including_informational_rules() -> None:
    matches = lint_file(TEMPLATE_PATH, config=LINT_CONFIG)
    assert [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches] == []


def test_lint_catches_a_misspelt_firehose_separator() -> None:
    broken = TEMPLATE_PATH.read_text().replace(
        "              Separator:", "              Seperator:", 1
    )
    matches = lint(broken, config=LINT_CONFIG)
    assert [m.rule.id for m in matches] == ["E3002"]


def test_template_uses_no_retired_service(template: dict[str, Any]) -> None:
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert not [t for t in types if t.startswith(RETIRED_SERVICE_PREFIXES)]
