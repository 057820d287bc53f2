"""Every key the code uses has an English and a Swedish translation."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest

INTEGRATION = Path(__file__).parents[2] / "custom_components" / "iot_porter"
LANGUAGES = ("en", "sv")


def _translations(language: str) -> dict[str, Any]:
    return json.loads((INTEGRATION / "translations" / f"{language}.json").read_text())


def _source() -> str:
    return "\n".join(p.read_text() for p in INTEGRATION.glob("*.py"))


def _has(tree: dict[str, Any], dotted: str) -> bool:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, str) and bool(node.strip())


def _used_keys() -> set[str]:
    source = _source()
    keys: set[str] = set()
    flows = ("config", "options")
    for reason in re.findall(r'reason="([a-z_]+)"', source):
        keys.update(f"{flow}.abort.{reason}" for flow in flows[:1])
    for error in re.findall(r'errors\[[^\]]+\] = "([a-z_]+)"', source):
        keys.add(f"config.error.{error}")
    for key in re.findall(r'translation_key="([a-z_]+)"', source):
        if f'"{key}"' in source and re.search(
            rf"(Error|Exception|Ready|Failed)\(\s*translation_domain=DOMAIN,\s*"
            rf'translation_key="{key}"',
            source,
        ):
            keys.add(f"exceptions.{key}.message")
    for call in re.findall(r"async_create_issue\((.{0,800}?)\n\s*\)", source, re.S):
        if match := re.search(r'translation_key="([a-z_]+)"', call):
            keys.add(f"issues.{match.group(1)}.title")
            keys.add(f"issues.{match.group(1)}.description")
    flow_source = (INTEGRATION / "config_flow.py").read_text()
    config_part, options_part = flow_source.split("class IotPorterOptionsFlow")
    for error in re.findall(r'return "([a-z_]+)"', config_part):
        keys.add(f"config.error.{error}")
    for flow, part in (("config", config_part), ("options", options_part)):
        for step in re.findall(r'step_id="([a-z_]+)"', part):
            keys.add(f"{flow}.step.{step}.title")
    for menu in re.findall(r"menu_options=\[([^\]]+)\]", options_part):
        for option in re.findall(r'"([a-z_]+)"', menu):
            keys.add(f"options.step.init.menu_options.{option}")
    # The mirror's own modules name their flow errors and issues as constants.
    for module in ("aws_mirror.py", "aws_certs.py"):
        text = (INTEGRATION / module).read_text()
        for key in re.findall(
            r"ERROR_INVALID_(?:ENDPOINT|PORT|THING|TOPIC_PREFIX|QUEUE_LIMIT"
            r'|CERTIFICATE|PRIVATE_KEY|CA): Final = "([a-z_]+)"',
            text,
        ):
            keys.add(f"options.error.{key}")
        for key in re.findall(
            r'ERROR_(?:KEY_MISMATCH|CERTIFICATE_EXPIRED): Final = "([a-z_]+)"', text
        ):
            keys.add(f"options.error.{key}")
        for key in re.findall(r'ISSUE_\w+: Final = "([a-z_]+)"', text):
            keys.add(f"issues.{key}.title")
            keys.add(f"issues.{key}.description")
    return keys


def test_the_key_scan_finds_the_keys_it_should() -> None:
    keys = _used_keys()
    assert "config.error.invalid_base_topic" in keys
    assert "exceptions.unknown_device.message" in keys
    assert "issues.board_silent.description" in keys
    assert "config.abort.mqtt_not_configured" in keys
    assert "config.error.quota_exhausted" in keys
    assert "options.step.forecast.title" in keys
    assert "options.step.init.menu_options.aws_mirror" in keys
    assert "options.error.key_mismatch" in keys
    assert "issues.aws_certificate_expiring.description" in keys
    assert "exceptions.aws_mirror_settings.message" in keys
    assert "issues.openai_quota.description" in keys


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_used_key_is_translated(language: str) -> None:
    tree = _translations(language)
    missing = sorted(key for key in _used_keys() if not _has(tree, key))
    assert missing == []


def _leaves(tree: Any, prefix: str = "") -> set[str]:
    if isinstance(tree, dict):
        return {
            leaf
            for key, value in tree.items()
            for leaf in _leaves(value, f"{prefix}.{key}" if prefix else key)
        }
    return {prefix}


def test_swedish_has_exactly_the_english_keys() -> None:
    assert _leaves(_translations("sv")) == _leaves(_translations("en"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_english(language: str) -> None:
    english, other = _translations("en"), _translations(language)

    def walk(a: Any, b: Any) -> None:
        if isinstance(a, dict):
            for key in a:
                walk(a[key], b[key])
        else:
            assert set(re.findall(r"{(\w+)}", a)) == set(re.findall(r"{(\w+)}", b))

    walk(english, other)


def test_service_fields_are_translated() -> None:
    services = (INTEGRATION / "services.yaml").read_text()
    names = re.findall(r"^([a-z_]+):$", services, flags=re.MULTILINE)
    for language in LANGUAGES:
        tree = _translations(language)
        for name in names:
            assert _has(tree, f"services.{name}.name")
            assert _has(tree, f"services.{name}.description")
