// The city console's live page: follows /events (Server-Sent Events, the server reads the
// central database) and redraws the totals and the table of halls. Nothing loaded from elsewhere.
"use strict";

(function () {
  const totals = document.getElementById("totals");
  if (!totals) return;
  const TEXT = JSON.parse(totals.dataset.texts || "{}");
  const LEVELS = TEXT.levels || {};
  const city = (window.hallq = { state: null, updates: 0 });

  function t(key, values) {
    return (TEXT[key] || key).replace(/\{(\w+)\}/g, function (_, name) {
      return values && name in values ? values[name] : "";
    });
  }

  function percent(rate) {
    return rate === null || rate === undefined ? "—" : (rate * 100).toFixed(1) + "%";
  }

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function freshness(h) {
    if (h.data_age_s === null) return t("no_data");
    if (h.stale) return t("stale", { m: Math.floor(h.data_age_s / 60) });
    return t("fresh");
  }

  function draw(state) {
    city.state = state;
    city.updates += 1;
    document.getElementById("centraldown").hidden = state.connected;
    const sums = state.totals || {};
    totals.querySelectorAll("b[data-k]").forEach(function (b) {
      const k = b.dataset.k;
      b.textContent = k === "satisfaction_rate" ? percent(sums[k]) : (k in sums ? sums[k] : "—");
    });
    document.getElementById("updated").textContent = state.at ? t("updated", { at: state.at.slice(11, 19) }) : "";
    const body = document.getElementById("halls");
    const rows = document.createDocumentFragment();
    (state.halls || []).forEach(function (h) {
      const tr = document.createElement("tr");
      tr.dataset.hall = h.id;
      if (h.alerts_last_hour > 0) tr.className = "over";
      else if (h.stale) tr.className = "amber";
      cell(tr, h.name);
      cell(tr, LEVELS[h.level] || h.level);
      cell(tr, h.region_code);
      cell(tr, h.waiting, "num");
      cell(tr, h.windows_open, "num");
      cell(tr, h.issued, "num");
      cell(tr, h.served, "num");
      cell(tr, percent(h.satisfaction_rate), "num");
      cell(tr, h.alerts_last_hour, "num");
      cell(tr, freshness(h));
      rows.appendChild(tr);
    });
    if (!(state.halls || []).length) {
      const tr = document.createElement("tr");
      cell(tr, t("no_halls"), "muted");
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
  }

  function connect() {
    const source = new EventSource("/events");
    source.addEventListener("state", function (e) { draw(JSON.parse(e.data)); });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        // the session ended (401) or the server restarted: a reload shows the login if needed
        setTimeout(function () { window.location.reload(); }, 2000);
      }
    };
  }
  connect();
})();
