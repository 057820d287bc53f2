"""Decide what the screen shows: forecast lines, today's count, update time, battery.

Pure text, no displayio: the layout in screen.py draws what this module returns.
"""

SECONDS_PER_DAY = 86400
WAITING_TEXT = "Waiting for Home Assistant"


def unseen_events(message, gen, events):
    """Return the own events Home Assistant has not counted according to message."""
    if message is None:
        return list(events)
    if message.get("gen") != gen or message.get("seq") is None:
        # Home Assistant has counted nothing of this generation yet.
        return list(events)
    counted = message["seq"]
    return [event for event in events if event[0] > counted]


def _local_day(epoch, offset_s):
    """Return the local day number of a Unix time."""
    return (epoch + offset_s) // SECONDS_PER_DAY


def counts(message, gen, events, now, clock_ok):
    """Return (today, total) including own events Home Assistant has not counted."""
    extra = unseen_events(message, gen, events)
    offset = message["utc_offset_s"] if message else 0
    today_number = _local_day(now, offset) if clock_ok else None
    extra_today = 0
    for _seq, ts in extra:
        # An undated event was recorded since the last power-on: count it as today.
        if ts is None or today_number is None or _local_day(ts, offset) == today_number:
            extra_today += 1
    if message is None:
        return extra_today, len(extra)
    return message["today"] + extra_today, message["total"] + len(extra)


def clock_text(epoch, offset_s):
    """Return the local wall-clock time HH:MM for a Unix time."""
    seconds = (epoch + offset_s) % SECONDS_PER_DAY
    return "%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60)


def status_line(today, total, updated, battery_v):
    """Return the top line: door counts, time of the last update and battery."""
    left = "Door %d today (%d)" % (today, total)
    right = "%s %.2fV" % (updated if updated else "--:--", battery_v)
    return left, right


def fit_lines(lines, max_lines, max_chars):
    """Cut the forecast lines to the screen's budget."""
    out = []
    for line in lines[:max_lines]:
        out.append(line[:max_chars])
    return out


def compose(message, gen, events, *, now, clock_ok, battery_v, max_lines, max_chars):
    """Return the screen content as a dict with a key that changes with the text."""
    today, total = counts(message, gen, events, now, clock_ok)
    if message is None:
        lines = [WAITING_TEXT]
        updated = None
        content_id = "-"
    else:
        lines = message["lines"]
        updated = clock_text(message["time"], message["utc_offset_s"])
        content_id = message["id"]
    left, right = status_line(today, total, updated, battery_v)
    return {
        "key": "%s|%d|%d" % (content_id, today, total),
        "status_left": left,
        "status_right": right,
        "lines": fit_lines(lines, max_lines, max_chars),
        "today": today,
        "total": total,
    }
