/* The counter's screen evaluator. Plain ES5, no libraries: the state comes from the
   server as Server-Sent Events (/e/events); a rating and a bad rating's reasons are posted
   back as JSON. The window is never sent: the server takes it from the tablet's pairing. */
(function () {
  "use strict";
  var body = document.body;
  var all = JSON.parse(body.getAttribute("data-words"));
  var lang = body.getAttribute("data-lang") || "zh";
  var view = JSON.parse(body.getAttribute("data-view"));
  var mode = "idle"; // idle | rating | reasons | thanks
  var ticket = null;
  var timer = null;
  var THANKS_MS = 4000;
  var PANELS = ["paused", "welcome", "rating", "reasons", "thanks"];

  function $(id) { return document.getElementById(id); }
  function w(key) { return (all[lang] && all[lang][key]) || all.zh[key] || key; }

  function later(ms, fn) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; fn(); }, ms);
  }

  function words() {
    var nodes = document.querySelectorAll("[data-w]");
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = w(nodes[i].getAttribute("data-w")); }
    $("lang").textContent = w("language");
    $("comment").setAttribute("placeholder", w("comment_placeholder"));
    document.documentElement.lang = lang === "zh" ? "zh-CN" : lang;
  }

  function drawCard() {
    var s = view.staff;
    $("card").hidden = !s;
    if (!s) { return; }
    $("staff-name").textContent = s.name || "";
    $("staff-title").textContent = s.title || "";
    $("staff-no").textContent = s.staff_no;
    var stars = "";
    for (var i = 0; i < 5; i++) { stars += i < s.stars ? "\u2605" : "\u2606"; }
    $("stars").textContent = stars;
    $("stars").setAttribute("aria-label", w("stars").replace("{n}", s.stars));
    var photo = $("photo");
    if (s.photo) {
      var src = "/e/photo?v=" + encodeURIComponent(s.photo + "-" + s.staff_no);
      if (photo.getAttribute("src") !== src) { photo.setAttribute("src", src); }
      photo.alt = s.name || s.staff_no;
      photo.hidden = false;
    } else {
      photo.hidden = true;
    }
  }

  function draw() {
    $("window-name").textContent = view.name;
    $("offline").hidden = view.connected;
    $("offline").textContent = view.refused ? w("refused") : w("offline");
    drawCard();
    var panel = mode;
    if (mode === "idle") { panel = view.open ? "welcome" : "paused"; }
    for (var i = 0; i < PANELS.length; i++) { $(PANELS[i]).hidden = PANELS[i] !== panel; }
    body.setAttribute("data-mode", panel);
  }

  function onView() {
    if (view.rating && (mode === "idle" || mode === "thanks")) {
      mode = "rating";
    } else if (!view.rating && mode === "rating") {
      mode = "idle"; // timed out at the hub, like a key pad, or rated elsewhere
    }
    draw();
  }

  function post(path, data, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("X-Hallq-Screen", "1");
    xhr.onload = function () {
      if (xhr.status === 401) { location.reload(); return; }
      var reply = {};
      try { reply = JSON.parse(xhr.responseText); } catch (e) { reply = {}; }
      done(xhr.status === 200 && reply.ok, reply);
    };
    xhr.onerror = function () { done(false, {}); };
    xhr.send(JSON.stringify(data));
  }

  function thanks(key) {
    mode = "thanks";
    $("thanks-text").textContent = w(key);
    draw();
    later(THANKS_MS, function () { mode = "idle"; onView(); });
  }

  function rate(level) {
    if (mode !== "rating") { return; }
    post("/e/rate", { level: level }, function (ok, reply) {
      if (!ok) { mode = "idle"; onView(); return; }
      if (reply.ask_reasons) {
        askReasons(reply.ticket);
      } else {
        thanks("thanks");
      }
    });
  }

  function askReasons(id) {
    ticket = id;
    mode = "reasons";
    var buttons = document.querySelectorAll(".reason");
    for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-pressed", "false"); }
    $("comment").value = "";
    $("reasons-error").hidden = true;
    draw();
    later(view.reasons_timeout_s * 1000, function () { thanks("thanks_bad"); });
  }

  function picked() {
    var out = [];
    var buttons = document.querySelectorAll(".reason[aria-pressed=true]");
    for (var i = 0; i < buttons.length; i++) { out.push(buttons[i].getAttribute("data-reason")); }
    return out;
  }

  function sendReasons() {
    var reasons = picked();
    var error = $("reasons-error");
    if (!reasons.length) { error.textContent = w("no_reason"); error.hidden = false; return; }
    post("/e/reasons", { ticket: ticket, reasons: reasons, comment: $("comment").value, lang: lang },
      function (ok, reply) {
        if (ok) { thanks("thanks_bad"); return; }
        error.textContent = (reply.error && reply.error.message) || w("offline");
        error.hidden = false;
      });
  }

  document.addEventListener("click", function (e) {
    var target = e.target;
    if (target.getAttribute("data-level")) { rate(target.getAttribute("data-level")); }
    if (target.getAttribute("data-reason")) {
      target.setAttribute("aria-pressed", target.getAttribute("aria-pressed") === "true" ? "false" : "true");
      $("reasons-error").hidden = true; // asked again only when sent with none
    }
  });
  $("submit-reasons").addEventListener("click", sendReasons);
  $("skip-reasons").addEventListener("click", function () { thanks("thanks_bad"); });
  $("lang").addEventListener("click", function () {
    lang = lang === "zh" ? "en" : "zh";
    words();
    draw();
  });

  var source = new EventSource("/e/events");
  source.onmessage = function (e) { view = JSON.parse(e.data); onView(); };
  source.addEventListener("revoked", function () { location.reload(); });
  source.onerror = function () {
    view.connected = false;
    draw();
    if (source.readyState === 2) { setTimeout(function () { location.reload(); }, 3000); }
  };
  words();
  onView();
}());
