// The plan's page: keeps the "would move" notice live by polling the plan's moves endpoint, the
// way the section page keeps its grid live (dashboard.js). Nothing moves by itself: the notice
// lists who would move and why, and the teacher accepts or keeps the groups with the page's own
// form. No inline script anywhere (CSP).
(function () {
  "use strict";

  function schedule(notice, pollMs) {
    window.setTimeout(function () { poll(notice, pollMs); }, pollMs);
  }

  function poll(notice, pollMs) {
    if (document.hidden) { schedule(notice, pollMs); return; }
    fetch(notice.dataset.movesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer) show(notice, answer); })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { schedule(notice, pollMs); });
  }

  function keysOf(moves) {
    return moves.map(function (move) { return move.key; }).join(" ");
  }

  function show(notice, answer) {
    var locked = Boolean(answer.locked);
    var keys = keysOf(answer.moves);
    // Only a change is written: the live region announces what is new, not every poll.
    if (keys === notice.dataset.shown && locked === (notice.dataset.locked === "1")) return;
    notice.dataset.shown = keys;
    notice.dataset.locked = locked ? "1" : "";
    var live = document.getElementById("moves-live");
    live.textContent = "";
    var count = answer.moves.length;
    notice.classList.toggle("has-moves", count > 0);
    if (count) {
      var summary = document.createElement("p");
      summary.className = "moves-summary";
      var strong = document.createElement("strong");
      strong.textContent = count + " student" + (count === 1 ? "" : "s") + " would move to another group, from new scores.";
      summary.appendChild(strong);
      if (locked) summary.appendChild(document.createTextNode(" The groups are locked, so nothing changes: unlock them to accept moves."));
      live.appendChild(summary);
      var list = document.createElement("ul");
      list.className = "moves-list";
      answer.moves.forEach(function (move) {
        var item = document.createElement("li");
        item.textContent = move.why;
        list.appendChild(item);
      });
      live.appendChild(list);
    }
    var form = document.getElementById("moves-form");
    if (!form) return;
    var holder = document.getElementById("moves-keys");
    holder.textContent = "";
    answer.moves.forEach(function (move) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "move";
      input.value = move.key;
      holder.appendChild(input);
    });
    form.hidden = locked || !count;
  }

  function start() {
    var notice = document.getElementById("moves-notice");
    if (!notice) return;
    var pollMs = parseInt(notice.dataset.pollMs, 10);
    if (!pollMs) return;
    schedule(notice, pollMs);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
