// The console's one script: follows /events (Server-Sent Events) and redraws the parts of
// the page that show live data. No framework, nothing loaded from elsewhere.
"use strict";

(function () {
  const page = document.body.dataset.page;
  if (page === "login" || !document.getElementById("banner")) return;

  const hallq = (window.hallq = { state: null, updatedAt: 0, updates: 0, hubAt: 0, receivedAt: 0 });
  const TEXT = JSON.parse(document.body.dataset.texts || "{}");
  let knownAlerts = null;
  let audio = null;

  function t(key, values) {
    return (TEXT[key] || key).replace(/\{(\w+)\}/g, function (_, name) {
      return values && name in values ? values[name] : "";
    });
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // The hub's clock may run faster than ours (the demo's hall clock): count at its rate.
  function hubNow() {
    const rate = hallq.state ? hallq.state.rate || 1 : 1;
    return hallq.hubAt + (Date.now() - hallq.receivedAt) * rate;
  }

  function elapsed(since) {
    if (!since) return null;
    return Math.max(0, (hubNow() - Date.parse(since)) / 1000);
  }

  function duration(seconds) {
    if (seconds === null) return "—";
    const m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
    if (m >= 60) return t("hours", { h: Math.floor(m / 60), m: m % 60 });
    return t("minutes", { m: m, s: String(s).padStart(2, "0") });
  }

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach(function (at) {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.25, audio.currentTime + at);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + at + 0.3);
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + at);
        osc.stop(audio.currentTime + at + 0.3);
      });
    } catch (e) { /* no sound device: the banner still shows */ }
    hallq.beeps = (hallq.beeps || 0) + 1;
  }

  function banners(state) {
    const down = document.getElementById("hubdown");
    down.hidden = state.connected;
    if (state.refused) down.textContent = t("refused");
    const banner = document.getElementById("banner");
    const count = document.getElementById("alert-count");
    const alerts = state.alerts || [], offline = state.offline || [];
    banner.hidden = alerts.length === 0 && offline.length === 0;
    count.hidden = alerts.length === 0;
    count.textContent = alerts.length;
    const parts = [];
    if (alerts.length) {
      const last = alerts[alerts.length - 1];
      parts.push(t("alerts", { n: alerts.length, kind: last.kind_name, message: last.message }));
    }
    if (offline.length) parts.push(t("offline", { devices: offline.join(t("list_sep")) }));
    document.getElementById("banner-text").textContent = parts.join(" · ");
    const ids = alerts.map(function (a) { return a.id; })
      .concat(offline.map(function (d) { return "device:" + d; }));
    if (knownAlerts !== null && ids.some(function (id) { return knownAlerts.indexOf(id) < 0; })) beep();
    knownAlerts = ids;
  }

  function minutes(v) { return v === null || v === undefined ? "—" : (v / 60).toFixed(1); }
  function percent(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  function renderLive(state) {
    const today = state.today || {};
    document.querySelectorAll("#today [data-k]").forEach(function (b) {
      const k = b.dataset.k, v = today[k];
      b.textContent = k.endsWith("_s") ? minutes(v) : k.endsWith("_rate") ? percent(v)
        : (v === undefined || v === null ? "—" : v);
    });
    document.getElementById("lim-serve").textContent = state.limits.serving_alert_min;
    document.getElementById("lim-wait").textContent = state.limits.wait_alert_min;
    const services = document.getElementById("services");
    services.replaceChildren();
    state.services.filter(function (s) { return s.waiting > 0; }).forEach(function (s) {
      const tr = el("tr");
      tr.dataset.service = s.id;
      tr.dataset.oldest = s.oldest || "";
      tr.append(el("td", s.name), el("td", s.waiting, "num"), el("td", "—", "wait"));
      services.append(tr);
    });
    if (!services.children.length) {
      const tr = el("tr"), td = el("td", t("no_waiting"), "muted");
      td.colSpan = 3;
      tr.append(td);
      services.append(tr);
    }
    const windows = document.getElementById("windows");
    windows.replaceChildren();
    state.windows.forEach(function (w) {
      const tr = el("tr", null, "state-" + w.state);
      tr.dataset.window = w.id;
      tr.dataset.since = w.since || "";
      tr.dataset.state = w.state;
      if (w.idle_waiting) tr.classList.add("amber");
      const stateText = w.state_name + (w.pause_reason ? "（" + w.pause_reason + "）" : "");
      tr.append(el("td", w.name), el("td", stateText, "state"), el("td", w.staff || "—"),
                el("td", w.ticket ? w.ticket + (w.service ? " " + w.service : "") +
                  (w.arrival ? " · " + w.arrival : "") : "—", "ticket"),
                el("td", "—", "since"), el("td", w.waiting, "num"));
      windows.append(tr);
    });
    tickLive();
  }

  function tickLive() {
    const state = hallq.state;
    if (!state) return;
    const serve = state.limits.serving_alert_min * 60, wait = state.limits.wait_alert_min * 60;
    document.querySelectorAll("#windows tr[data-window]").forEach(function (tr) {
      const s = elapsed(tr.dataset.since);
      tr.querySelector(".since").textContent = duration(s);
      const busy = tr.dataset.state === "calling" || tr.dataset.state === "serving";
      tr.classList.toggle("over", busy && s !== null && s > serve);
    });
    document.querySelectorAll("#services tr[data-service]").forEach(function (tr) {
      const s = elapsed(tr.dataset.oldest);
      tr.querySelector(".wait").textContent = duration(s);
      tr.classList.toggle("over", s !== null && s > wait);
    });
    const clock = document.getElementById("clock");
    if (clock) clock.textContent = new Date(hubNow()).toLocaleTimeString("zh-CN", { hour12: false, timeZone: state.tz });
  }

  function stamp(iso) {
    const tz = hallq.state ? hallq.state.tz : undefined;
    return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false, timeZone: tz }) : "—";
  }

  function renderDevices(state) {
    const hub = state.hub || {};
    document.getElementById("hub-health").textContent = hub.ok
      ? t("hub_ok", { connections: hub.connections, seq: hub.seq, uptime: duration(hub.uptime_s),
                      ms: hub.latency_ms })
      : t("hub_down", { checked: stamp(hub.checked) });
    document.querySelectorAll("#devices tr[data-device]").forEach(function (tr) {
      const d = state.devices[tr.dataset.device];
      if (!d) return;
      const online = tr.querySelector(".online");
      online.textContent = d.online ? t("online") : t("offline_state");
      tr.classList.toggle("offline", !d.online);
      tr.querySelector(".since").textContent = stamp(d.since);
      tr.querySelector(".seen").textContent = stamp(d.last_seen);
      tr.querySelector(".printer").textContent = d.printer_ok === null ? "—" : d.printer_ok ? t("ok") : t("printer_fault");
      tr.querySelector(".line").textContent = d.line_ok === null ? "—" : d.line_ok ? t("ok") : t("line_down");
    });
  }

  function apply(state) {
    hallq.state = state;
    hallq.hubAt = Date.parse(state.now);
    hallq.receivedAt = Date.now();
    banners(state);
    if (page === "live") renderLive(state);
    if (page === "devices") renderDevices(state);
    hallq.updatedAt = Date.now();
    hallq.updates += 1;
    document.body.dataset.version = state.version;
  }

  function connect() {
    const source = new EventSource("/events");
    source.addEventListener("state", function (e) { apply(JSON.parse(e.data)); });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
      const down = document.getElementById("hubdown");
      down.hidden = false;
    };
  }

  connect();
  if (page === "live") setInterval(tickLive, 1000);
})();
