"""Write a minimal Home Assistant config folder that loads IoT Porter offline."""

from __future__ import annotations

import json
from pathlib import Path
import shutil
import textwrap

REPO_ROOT = Path(__file__).resolve().parent.parent
INTEGRATION_DIR = REPO_ROOT / "custom_components" / "iot_porter"

WEATHER_ENTITY = "weather.demo_home"
DOOR_COUNTER = "counter.door_moves"
DIY_COUNTER = "counter.diy_door_events"

# An hourly forecast for the next 24 h, relative to now: a mild day with a rain
# spell in the late afternoon and a breeze that picks up with it. Pure template
# maths, so it works offline and changes as the hours pass, like a real one.
_FORECAST_TEMPLATE = """\
{%- set ns = namespace(rows=[]) -%}
{%- set start = now().replace(minute=0, second=0, microsecond=0) -%}
{%- for step in range(1, 25) -%}
  {%- set t = start + timedelta(hours=step) -%}
  {%- set h = t.hour -%}
  {%- set temp = 9 + 5 * sin((h - 9) / 24 * 2 * pi) -%}
  {%- set wet = 15 <= h <= 19 -%}
  {%- set pp = 80 if wet else (30 if h in [14, 20] else 5) -%}
  {%- set mm = (0.4 + 0.3 * (h - 15)) if wet else 0 -%}
  {%- set cond = 'rainy' if wet else ('cloudy' if h in [13, 14, 20, 21]
      else ('clear-night' if h < 6 or h > 21 else 'partlycloudy')) -%}
  {%- set wind = 18 if wet else 8 + (h % 5) -%}
  {%- set ns.rows = ns.rows + [{
      'datetime': t.isoformat(), 'condition': cond,
      'temperature': temp | round(1), 'precipitation': mm | round(1),
      'precipitation_probability': pp, 'wind_speed': wind,
      'humidity': 85 if wet else 65}] -%}
{%- endfor -%}
{{ ns.rows }}"""


def configuration_yaml(port: int, *, name: str = "IoT Porter demo") -> str:
    """Return configuration.yaml: HTTP on loopback, helpers, a weather entity."""
    return textwrap.dedent(
        f"""\
        homeassistant:
          name: {name}
          latitude: 59.3293
          longitude: 18.0686
          elevation: 20
          unit_system: metric
          time_zone: Europe/Stockholm
          country: SE
          currency: SEK
        http:
          server_host: 127.0.0.1
          server_port: {port}
        api:
        config:
        frontend:
        automation: !include automations.yaml
        counter:
          door_moves:
            name: Door moves seen by an automation
            initial: 0
            step: 1
          diy_door_events:
            name: Door events counted the do-it-yourself way
            initial: 0
            step: 1
        template: !include templates.yaml
        logger:
          default: warning
          logs:
            custom_components.iot_porter: info
        """
    )


def templates_yaml() -> str:
    """Return the template entities: an offline weather entity with a forecast."""
    forecast = textwrap.indent(_FORECAST_TEMPLATE, " " * 8)
    return (
        "- weather:\n"
        "    - name: Demo home\n"
        "      unique_id: iot_porter_demo_weather\n"
        "      condition_template: \"{{ 'partlycloudy' }}\"\n"
        '      temperature_template: "{{ 11 }}"\n'
        '      humidity_template: "{{ 70 }}"\n'
        '      wind_speed_template: "{{ 9 }}"\n'
        "      temperature_unit: °C\n"
        "      wind_speed_unit: km/h\n"
        "      precipitation_unit: mm\n"
        "      forecast_hourly_template: >-\n" + forecast + "\n"
    )


def automations_yaml(event_entity: str, *, diy_topic: str | None = None) -> str:
    """Return automations: count door_moved triggers (and the DIY MQTT path)."""
    text = textwrap.dedent(
        f"""\
        - id: iot_porter_count_door_moves
          alias: Count door moves
          mode: queued
          max: 10000
          triggers:
            - trigger: state
              entity_id: {event_entity}
          # No to/from/not_from: several door events of one batch land within
          # the same millisecond, so only attributes change between them, and
          # a state trigger with to/from options ignores attribute-only changes.
          conditions:
            - condition: template
              value_template: >-
                {{{{ trigger.from_state is not none
                   and trigger.from_state.state != 'unavailable'
                   and trigger.to_state.state not in ['unknown', 'unavailable']
                   and trigger.to_state.attributes.event_type == 'door_moved' }}}}
          actions:
            - action: counter.increment
              target:
                entity_id: {DOOR_COUNTER}
        """
    )
    if diy_topic is not None:
        # The do-it-yourself path: one counter step per MQTT door event, as a
        # user without the integration would write it.
        text += textwrap.dedent(
            f"""\
            - id: diy_count_door_events
              alias: Count door events the do-it-yourself way
              mode: queued
              max: 100000
              triggers:
                - trigger: mqtt
                  topic: {diy_topic}
              actions:
                - action: counter.increment
                  target:
                    entity_id: {DIY_COUNTER}
            """
        )
    return text


def prepare(
    config_dir: Path,
    port: int,
    *,
    event_entity: str = "event.front_door_door",
    diy_topic: str | None = None,
    copy_integration: bool = False,
) -> None:
    """Create (or refresh) a config folder; keep .storage so counts survive."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(configuration_yaml(port))
    (config_dir / "templates.yaml").write_text(templates_yaml())
    (config_dir / "automations.yaml").write_text(
        automations_yaml(event_entity, diy_topic=diy_topic)
    )
    _skip_onboarding_extras(config_dir)
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    target = components / "iot_porter"
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    if copy_integration:
        shutil.copytree(
            INTEGRATION_DIR, target, ignore=shutil.ignore_patterns("__pycache__")
        )
    else:
        target.symlink_to(INTEGRATION_DIR, target_is_directory=True)


def _skip_onboarding_extras(config_dir: Path) -> None:
    """Mark every onboarding step but the owner's as done, before the first start.

    The location step would otherwise add Met.no, Radio Browser and Google
    Translate, which need the internet and packages this offline setup lacks.
    """
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    path = storage / "onboarding"
    if path.exists():
        return
    path.write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": ["core_config", "analytics", "integration"]},
            }
        )
    )
