// The live ticket page: follows its Server-Sent Events (or polls, where a browser has
// none) and redraws the ticket. Plain ES5 for WeChat's built-in browser and old phones;
// nothing loaded from elsewhere.
(function () {
  "use strict";
  var card = document.getElementById("ticket");
  if (!card) return;
  var me = (window.hallqTicket = { updates: 0, state: card.getAttribute("data-state"),
                                   beeps: 0, vibrations: 0, audio: null });
  var live = document.getElementById("live");

  function set(id, text) {
    var el = document.getElementById(id);
    el.textContent = text || "";
    if (id !== "headline") el.hidden = !text;
  }

  function alertHolder() {
    if (navigator.vibrate) {
      try { if (navigator.vibrate([400, 150, 400, 150, 400])) me.vibrations += 1; } catch (e) { /* not allowed */ }
    }
    var ctx = me.audio;
    if (!ctx) return;
    try {
      var start = ctx.currentTime;
      for (var i = 0; i < 3; i += 1) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.frequency.value = 880;
        gain.gain.value = 0.3;
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(start + i * 0.45);
        osc.stop(start + i * 0.45 + 0.3);
      }
      me.beeps += 1;
    } catch (e) { /* no sound here */ }
  }

  function draw(view) {
    var before = me.state;
    me.updates += 1;
    me.state = view.state;
    me.view = view;
    card.setAttribute("data-state", view.state);
    set("headline", view.headline);
    set("ahead_text", view.ahead_text);
    set("wait_text", view.wait_text);
    document.getElementById("near").hidden = !view.near;
    var notes = document.getElementById("notes");
    while (notes.firstChild) notes.removeChild(notes.firstChild);
    for (var i = 0; i < view.notes.length; i += 1) {
      var li = document.createElement("li");
      li.textContent = view.notes[i];
      notes.appendChild(li);
    }
    var rating = document.getElementById("rating");
    rating.hidden = !view.rating_url;
    if (view.rating_url) rating.setAttribute("href", view.rating_url);
    if (view.state === "called" && before !== "called") alertHolder();
    if (view.state === "expired" || view.state === "done" || view.state === "no_show") stop();
  }

  function status(on) {
    live.textContent = live.getAttribute(on ? "data-on" : "data-off");
    live.className = on ? "live muted" : "live warn";
  }

  var source = null, timer = null;
  function stop() {
    if (source) source.close();
    if (timer) clearInterval(timer);
    live.hidden = true;
  }

  function poll() {
    var req = new XMLHttpRequest();
    req.open("GET", card.getAttribute("data-poll"));
    req.onload = function () {
      status(req.status === 200);
      if (req.status === 200) draw(JSON.parse(req.responseText));
    };
    req.onerror = function () { status(false); };
    req.send();
  }

  if (window.EventSource) {
    source = new EventSource(card.getAttribute("data-events"));
    source.addEventListener("ticket", function (e) { status(true); draw(JSON.parse(e.data)); });
    source.onerror = function () { status(false); };
  } else {
    timer = setInterval(poll, 10000);
  }

  // Sound needs a touch first on phones: one tap turns it on (and tries a short buzz).
  var button = document.getElementById("alerts");
  button.addEventListener("click", function () {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !me.audio) {
      try { me.audio = new Ctx(); } catch (e) { me.audio = null; }
    }
    if (navigator.vibrate) {
      try { navigator.vibrate(60); } catch (e) { /* not allowed */ }
    }
    button.hidden = true;
    document.getElementById("alerts-ok").hidden = false;
  });
})();
