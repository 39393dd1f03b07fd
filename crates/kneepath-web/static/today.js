// kneepath: the Today view's rep and set counter and hold or session timer.
// Progressive enhancement: without this script the plan is a plain
// checklist; with it, each exercise card that has something to count gets
// buttons, and finishing the last set (or the session's time) of the
// day's last session ticks the exercise, which the check-in then shows as
// done. An exercise done twice a day is ticked after the second session:
// the sessions finished today, and the ticks, are kept in the browser's
// storage (under the day and the exercise, nothing else; older days are
// dropped), so leaving the page between them loses nothing; a tick or an
// untick by hand wins over the counter's. Nothing is sent anywhere: the ticks
// go to the check-in form only when the person asks.
(function () {
  "use strict";

  var PREFIX = "kneepath-today:";
  var form = document.querySelector("form.today-list[data-day]");
  var day = form ? form.getAttribute("data-day") : "";

  // Finished sessions of an exercise today (storage may be off: then the
  // count lasts as long as the page).
  var kept = {};
  function sessionsDone(id) {
    try {
      var v = window.localStorage.getItem(PREFIX + day + ":" + id);
      if (v !== null) return parseInt(v, 10) || 0;
    } catch (e) { /* storage off */ }
    return kept[id] || 0;
  }
  function keepSessions(id, n) {
    kept[id] = n;
    try {
      window.localStorage.setItem(PREFIX + day + ":" + id, String(n));
    } catch (e) { /* storage off */ }
  }
  // A tick (or untick) made today: "1", "0", or null when none was made.
  function tickKept(id) {
    try {
      return window.localStorage.getItem(PREFIX + day + ":tick:" + id);
    } catch (e) {
      return null;
    }
  }
  function keepTick(id, on) {
    try {
      window.localStorage.setItem(PREFIX + day + ":tick:" + id, on ? "1" : "0");
    } catch (e) { /* storage off */ }
  }
  // Other days' counts are of no use any more.
  try {
    for (var k = window.localStorage.length - 1; k >= 0; k--) {
      var key = window.localStorage.key(k);
      if (key && key.indexOf(PREFIX) === 0 && key.indexOf(PREFIX + day + ":") !== 0) {
        window.localStorage.removeItem(key);
      }
    }
  } catch (e) { /* storage off */ }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function button(text) {
    var b = el("button", "button secondary small", text);
    b.type = "button";
    return b;
  }

  function clock(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function setUp(box) {
    var sets = parseInt(box.getAttribute("data-sets"), 10) || 0;
    var reps = parseInt(box.getAttribute("data-reps"), 10) || 0;
    var hold = parseInt(box.getAttribute("data-hold"), 10) || 0;
    var minutes = parseInt(box.getAttribute("data-minutes"), 10) || 0;
    var sessions = parseInt(box.getAttribute("data-sessions"), 10) || 1;
    var id = box.getAttribute("data-exercise");
    var tick = document.getElementById("done-" + id);
    if (!sets && !reps && !hold && !minutes) return;
    sets = sets || 1;

    // On the folded card: how many of the day's sessions are done.
    var dose = document.querySelector("#ex-" + id + " summary .dose");
    var mark = el("span", "sessions-done");
    if (dose && sessions > 1) dose.appendChild(mark);
    function badge() {
      var n = sessionsDone(id);
      mark.textContent = n > 0 && n < sessions ? " · " + n + " of " + sessions + " done" : "";
    }

    var status = el("p", "count");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var row = el("div", "toolrow");
    var set = 1;
    var rep = 0;
    var timer = null;
    // Whether this counter ticked the exercise (so "Start over" unticks it).
    var ticked = false;

    function disableAll() {
      Array.prototype.forEach.call(row.querySelectorAll("button"), function (b) {
        if (b !== again) b.disabled = true;
      });
    }

    // A session finished: the day's last ticks the exercise; before it,
    // the counter starts again for the next one.
    function finish(words) {
      var done = sessionsDone(id) + 1;
      keepSessions(id, done);
      if (done < sessions) {
        set = 1;
        rep = 0;
        show();
        status.textContent = words + " Session " + done + " of " + sessions +
          " done today. Do the next one later: it is ticked as done after the last, so check in after it.";
        badge();
        return;
      }
      if (tick && !tick.checked) {
        tick.checked = true;
        ticked = true;
        keepTick(id, true);
      }
      badge();
      status.textContent = words + (sessions > 1 ? " All " + sessions + " sessions done today." : "") +
        " Ticked as done for today's check-in.";
      disableAll();
    }

    function show(before) {
      var now = "";
      if (reps) {
        now = "Set " + set + " of " + sets + ": " + rep + " of " + reps + " reps.";
      } else if (hold) {
        now = "Next: hold " + set + " of " + sets + ".";
      }
      status.textContent = (before ? before + " " : "") + now;
    }

    function counted(before) {
      // One more rep (or hold) of the current set; then the next set.
      if (reps) {
        rep += 1;
        if (rep < reps) return show(before);
        if (set < sets) {
          set += 1;
          rep = 0;
          return show((before ? before + " " : "") + "Set done: rest, then go on.");
        }
      } else if (set < sets) {
        set += 1;
        return show(before);
      }
      finish((before ? before + " " : "") + "All " + sets + " set" + (sets === 1 ? "" : "s") + " done.");
    }

    // Counts down to a deadline on the clock, so a slowed or paused page
    // still ends on time; a phone that can vibrates at the end.
    function countdown(seconds, label, done) {
      if (timer) clearInterval(timer);
      var deadline = Date.now() + seconds * 1000;
      label.textContent = clock(seconds);
      label.hidden = false;
      timer = setInterval(function () {
        var left = Math.ceil((deadline - Date.now()) / 1000);
        label.textContent = clock(Math.max(left, 0));
        if (left <= 0) {
          clearInterval(timer);
          timer = null;
          if (navigator.vibrate) navigator.vibrate(300);
          done();
        }
      }, 250);
    }

    var time = el("span", "timer");
    time.hidden = true;
    time.setAttribute("aria-hidden", "true");

    if (minutes && !reps && !hold) {
      var start = button("Start " + minutes + " min");
      start.addEventListener("click", function () {
        start.disabled = true;
        status.textContent = "Timer running: " + minutes + " minutes.";
        countdown(minutes * 60, time, function () {
          start.disabled = false;
          finish("Time is up.");
        });
      });
      row.appendChild(start);
    } else {
      if (hold) {
        var holdButton = button("Start a " + hold + " s hold");
        holdButton.addEventListener("click", function () {
          holdButton.disabled = true;
          status.textContent = "Hold for " + hold + " seconds.";
          countdown(hold, time, function () {
            holdButton.disabled = false;
            counted("Release.");
          });
        });
        row.appendChild(holdButton);
      }
      if (reps && !hold) {
        var repButton = button("+1 rep");
        repButton.addEventListener("click", function () {
          counted();
        });
        row.appendChild(repButton);
      }
      show();
    }
    var again = button("Start over");
    again.addEventListener("click", function () {
      if (timer) clearInterval(timer);
      timer = null;
      set = 1;
      rep = 0;
      time.hidden = true;
      // Taking back a tick this counter made takes back its session too.
      if (ticked && tick) {
        tick.checked = false;
        keepTick(id, false);
        keepSessions(id, Math.max(sessionsDone(id) - 1, 0));
        badge();
      }
      ticked = false;
      Array.prototype.forEach.call(row.querySelectorAll("button"), function (b) {
        b.disabled = false;
      });
      show();
      if (minutes && !reps && !hold) status.textContent = "";
    });
    row.appendChild(time);
    row.appendChild(again);
    box.appendChild(row);
    box.appendChild(status);
    // Sessions finished earlier today, on this device.
    var before = sessionsDone(id);
    badge();
    if (before >= sessions && tickKept(id) !== "0") {
      // The counter's tick (a reload may have kept the box ticked already).
      if (tick) tick.checked = true;
      ticked = true;
      status.textContent = (sessions > 1 ? "All " + sessions + " sessions" : "The session") +
        " done today. Ticked as done for today's check-in.";
      disableAll();
    } else if (before > 0) {
      status.textContent = "Session " + before + " of " + sessions + " done today.";
    }
  }

  // Ticks by hand, kept for the day (restored before the counters read
  // them).
  var ticks = document.querySelectorAll("form.today-list input[name=done]");
  Array.prototype.forEach.call(ticks, function (box) {
    var kept = tickKept(box.value);
    if (kept !== null) box.checked = kept === "1";
    box.addEventListener("change", function () {
      keepTick(box.value, box.checked);
    });
  });

  var boxes = document.querySelectorAll(".tools[data-exercise]");
  for (var i = 0; i < boxes.length; i++) setUp(boxes[i]);
})();
