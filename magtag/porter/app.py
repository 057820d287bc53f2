"""Run one short wake: count the door event, publish, update the screen, sleep.

Every path, including every exception, ends in hw.deep_sleep with a timer after
the motion interrupt has been re-armed and its latch cleared.
"""

from . import FW_VERSION, persist, protocol, screen, sequence, view
from .lis3dh import LIS3DH
from .log import configure as configure_log, log
from .settings import Settings, interval_or_default

MAX_REFRESH_WAIT_S = 6.0
DISPLAY_BUSY_TIMEOUT_S = 15.0
SOCKET_TIMEOUT_S = 1
DEBOUNCE_S = 20


class Wake:
    """Carry one wake's hardware, settings, state and report."""

    def __init__(self, hw):
        """Start a wake on hw."""
        self.hw = hw
        self.started = hw.monotonic()
        self.settings = None
        self.state = None
        self.accel = LIS3DH(hw.i2c) if hw.i2c is not None else None
        self.display_message = None
        self.display_reason = None
        self.topics = None
        self.report = {
            "wake": "reset",
            "new_event": False,
            "published_events": 0,
            "repeated_events": 0,
            "confirmed_events": 0,
            "dropped_events": 0,
            "state_published": False,
            "display_received": False,
            "display_rejected": None,
            "refreshed": False,
            "error": None,
            "latch_cleared": False,
            "sleep_s": None,
            "awake_s": 0.0,
        }

    def record_error(self, where, exc):
        """Keep an error for the next state message."""
        text = "%s: %s %s" % (where, type(exc).__name__, exc)
        text = protocol.clip_error(text)
        self.report["error"] = text
        if self.state is not None:
            self.state.error = text
        log("error", text)

    def load_state(self):
        """Load sleep memory, or recover from nvm when it is missing or corrupt."""
        state = persist.load(self.hw.sleep_memory)
        if state is None:
            log("sleep memory not valid: recovering from nvm")
            previous_error = None
            state = persist.WakeState()
            gen, next_seq, end = sequence.recover(self.hw.nvm, self.hw.random_u31)
            state.gen, state.next_seq, state.block_end = gen, next_seq, end
            if self.report["wake"] not in ("power_on",):
                previous_error = "sleep memory corrupt, recovered from nvm"
            state.error = previous_error
        self.state = state
        state.wakes += 1

    def take_seq(self):
        """Return the next sequence number, reserving a new block when needed."""
        state = self.state
        if state.next_seq >= state.block_end:
            gen, start, end = sequence.extend(
                self.hw.nvm, state.gen, state.block_end, self.hw.random_u31
            )
            if gen != state.gen:
                # Events of the old generation cannot be sent under the new one.
                self.note_dropped(state.drop_all())
            state.gen, state.next_seq, state.block_end = gen, start, end
        seq = state.next_seq
        state.next_seq += 1
        return seq

    def note_dropped(self, lost):
        """Count unconfirmed events dropped in this wake and log it."""
        if lost:
            self.report["dropped_events"] += lost
            log("error", dropped_text(self.state.dropped))

    def count_door_event(self):
        """Add a debounced door event to the unconfirmed events."""
        state = self.state
        now = self.hw.time()
        last = state.last_event_t
        debounce_s = self.settings.debounce_s if self.settings else DEBOUNCE_S
        if last is not None and 0 <= now - last < debounce_s:
            log("motion within debounce window: not a new door event")
            return
        seq = self.take_seq()
        ts = now if state.clock_ok else None
        self.note_dropped(state.add_event(seq, ts))
        state.count += 1
        state.last_event_t = now
        self.report["new_event"] = True
        log("door event", seq)

    def on_message(self, _client, topic, message):
        """Take the display message from the board's own display topic."""
        if topic != self.topics["display"]:
            return
        raw = message.encode("utf-8") if isinstance(message, str) else message
        parsed, reason = protocol.parse_display(raw)
        if parsed is None:
            self.display_reason = reason
            self.report["display_rejected"] = reason
            log("display message rejected:", reason)
            return
        self.display_message = parsed
        self.report["display_received"] = True

    def apply_display(self):
        """Store a received display message and set the clock from it."""
        message = self.display_message
        if message is None:
            if self.display_reason is not None:
                self.state.error = "display message rejected: " + self.display_reason
            return
        state = self.state
        before = self.hw.time()
        self.hw.set_time(message["time"])
        if state.last_event_t is not None:
            # Keep the debounce window meaningful across the clock jump.
            state.last_event_t += self.hw.time() - before
        state.clock_ok = True
        state.display = message

    def connect_wifi(self):
        """Join Wi-Fi with the remembered channel/BSSID hint."""
        settings, state = self.settings, self.state
        bssid = bytes.fromhex(state.wifi_bssid) if state.wifi_bssid else None
        try:
            channel, found = self.hw.wifi_connect(
                settings.wifi_ssid,
                settings.wifi_password,
                state.wifi_channel,
                bssid,
                settings.wifi_timeout_s,
            )
        except Exception:
            # A stale hint must not lock the board out of a moved access point.
            state.wifi_channel, state.wifi_bssid = 0, None
            raise
        state.wifi_channel = channel or 0
        state.wifi_bssid = found.hex() if found else None

    def make_client(self):
        """Return a MiniMQTT client with small timeouts."""
        from adafruit_minimqtt.adafruit_minimqtt import MQTT

        settings = self.settings
        client = MQTT(
            broker=settings.mqtt_host,
            port=settings.mqtt_port,
            username=settings.mqtt_user,
            password=settings.mqtt_password,
            client_id=settings.device_id,
            is_ssl=settings.mqtt_tls,
            ssl_context=self.hw.ssl_context() if settings.mqtt_tls else None,
            socket_pool=self.hw.socket_pool(),
            keep_alive=60,
            socket_timeout=SOCKET_TIMEOUT_S,
            recv_timeout=settings.mqtt_timeout_s,
            connect_retries=1,
        )
        client.on_message = self.on_message
        return client

    def confirm_counted(self):
        """Forget the events this wake's display message shows counted."""
        confirmed = self.state.confirm(self.display_message)
        self.report["confirmed_events"] += confirmed

    def publish_events(self, client):
        """Publish every event Home Assistant has not shown as counted, oldest first.

        Events stay after the broker's PUBACK: only a display message received in
        this wake proves that Home Assistant counted them. The retained one usually
        arrives while the first batch waits for its ack, so later batches skip
        what it confirms.
        """
        state = self.state
        last = -1
        while True:
            self.confirm_counted()
            todo = [event for event in state.unconfirmed if event[0] > last]
            if not todo:
                return
            size, payload = protocol.first_batch(state.gen, todo)
            client.publish(self.topics["events"], payload, qos=1)
            batch = todo[:size]
            first_time = len([e for e in batch if not state.is_sent(e[0])])
            last = batch[-1][0]
            state.mark_sent(last)
            self.report["published_events"] += first_time
            self.report["repeated_events"] += size - first_time
            persist.save(self.hw.sleep_memory, state)

    def publish_state(self, client):
        """Publish the retained state; clear the error once it was acknowledged."""
        state = self.state
        lines, chars = screen.budget(self.hw.font_path)
        payload = protocol.state_payload(
            fw=FW_VERSION,
            battery_v=self.hw.battery_v(),
            rssi=self.hw.rssi(),
            wake=self.report["wake"],
            error=state_error(state),
            lines=lines,
            chars=chars,
            interval_s=self.settings.interval_s,
            backlog=state.unsent(),
        )
        reported, reported_dropped = state.error, state.dropped
        client.publish(self.topics["state"], payload, retain=True, qos=1)
        self.report["state_published"] = True
        if state.error == reported:
            state.error = None
        if state.dropped == reported_dropped:
            state.dropped = 0

    def wait_display(self, client):
        """Wait briefly for the retained display message if it has not come yet."""
        deadline = self.hw.monotonic() + self.settings.display_wait_s
        while self.display_message is None and self.display_reason is None:
            if self.hw.monotonic() >= deadline:
                break
            client.loop(timeout=SOCKET_TIMEOUT_S)

    def network(self):
        """Do the whole Wi-Fi and MQTT exchange; raise on the first failure."""
        self.connect_wifi()
        client = self.make_client()
        try:
            client.connect(clean_session=True)
            # Subscribing first lets the retained display message arrive while the
            # publishes below wait for their acknowledgements: no extra wait.
            client.subscribe(self.topics["display"], qos=1)
            if self.state.unsent():
                self.publish_events(client)
                self.publish_state(client)
            else:
                # Only repeats, if anything: the display message that arrives
                # while the state waits for its ack usually confirms them all,
                # which saves a whole events message.
                self.publish_state(client)
                self.publish_events(client)
            self.wait_display(client)
        finally:
            try:
                client.disconnect()
            except Exception as exc:  # the session is over either way
                log("disconnect failed:", type(exc).__name__)

    def update_screen(self):
        """Refresh the e-paper when the shown content changed."""
        hw, state = self.hw, self.state
        if hw.display is None:
            return
        lines, chars = screen.budget(hw.font_path)
        content = view.compose(
            state.display,
            state.gen,
            state.unconfirmed,
            now=hw.time(),
            clock_ok=state.clock_ok,
            battery_v=hw.battery_v(),
            max_lines=lines,
            max_chars=chars,
        )
        if content["key"] == state.shown_key:
            log("screen unchanged")
            return
        wait_s = getattr(hw.display, "time_to_refresh", 0) or 0
        if wait_s > MAX_REFRESH_WAIT_S:
            log("panel needs %.1f s rest: refresh later" % wait_s)
            return
        if wait_s > 0:
            hw.pause(wait_s)
        screen.show(hw.display, hw.font_path, content)
        state.shown_key = content["key"]
        state.last_refresh_t = hw.time()
        self.report["refreshed"] = True

    def arm_and_sleep(self, interval_s):
        """Re-arm wake-on-motion, clear the latch, save state and deep sleep."""
        settings = self.settings
        try:
            if self.accel is not None:
                threshold = settings.motion_threshold_mg if settings else 96
                rate = settings.motion_rate_hz if settings else 50
                duration = settings.motion_duration if settings else 0
                self.accel.arm_wake(threshold, rate, duration)
                # The final read cleared the latch; confirm nothing is pending.
                self.report["latch_cleared"] = (
                    self.accel.read_motion_source() & 0x40 == 0
                )
        except Exception as exc:
            self.record_error("accelerometer", exc)
        try:
            if self.state is not None:
                persist.save(self.hw.sleep_memory, self.state)
        except Exception as exc:
            log("saving state failed:", type(exc).__name__)
        try:
            self.hw.wait_display_idle(DISPLAY_BUSY_TIMEOUT_S)
        except Exception as exc:
            log("display busy wait failed:", type(exc).__name__)
        dropped = self.report["dropped_events"]
        if dropped:
            # Keep the loss in the report even when a later error replaced it.
            text = dropped_text(dropped)
            if self.report["error"]:
                text += "; " + self.report["error"]
            self.report["error"] = protocol.clip_error(text)
        self.report["sleep_s"] = interval_s
        self.report["awake_s"] = self.hw.monotonic() - self.started
        log("sleeping", interval_s, "s")
        self.hw.deep_sleep(interval_s)

    def run(self):
        """Run the wake from first register read to deep sleep."""
        hw = self.hw
        interval_s = interval_or_default(hw.getenv)
        try:
            self.report["wake"] = hw.wake_reason()
            motion_source = 0
            if self.accel is not None:
                # Before anything else touches the chip: read and clear the latch.
                motion_source = self.accel.read_motion_source()
            self.load_state()
            try:
                self.settings = Settings(hw.getenv)
            except ValueError as exc:
                self.record_error("settings", exc)
            if self.settings is not None:
                configure_log(self.settings.log)
            motion = self.report["wake"] == "motion" or bool(motion_source & 0x40)
            if motion:
                self.count_door_event()
            persist.save(hw.sleep_memory, self.state)
            if self.settings is None:
                raise ValueError("settings.toml needs fixing")
            self.topics = protocol.topics(
                self.settings.base_topic, self.settings.device_id
            )
            try:
                self.network()
            except Exception as exc:
                self.record_error("network", exc)
            finally:
                try:
                    hw.radio_off()
                except Exception as exc:
                    log("radio off failed:", type(exc).__name__)
            self.apply_display()
            self.confirm_counted()
            self.update_screen()
        except Exception as exc:
            self.record_error("wake", exc)
        self.arm_and_sleep(interval_s)
        return self.report


def dropped_text(dropped):
    """Return the error that reports unconfirmed events dropped at the bound."""
    return "events: dropped %d oldest unconfirmed (limit %d)" % (
        dropped,
        persist.MAX_UNCONFIRMED,
    )


def state_error(state):
    """Return the error for the state message: dropped events first, then the last."""
    if not state.dropped:
        return state.error
    text = dropped_text(state.dropped)
    if state.error:
        text += "; " + state.error
    return protocol.clip_error(text)


def run(hw):
    """Run one wake on hw and return its report (on the board it never returns)."""
    return Wake(hw).run()
