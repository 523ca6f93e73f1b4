/* The supervisor's agent board, live over /ws/wallboard/: no polling. Events that change what the board shows
 * (an agent's status, a break, work assigned or finished) redraw its rows from the server's own rendering of the
 * page, at most once per REDRAW_MS; a (re)connect's snapshot redraws them too, so a dropped socket leaves nothing
 * stale. "In status" minutes tick locally from each row's data-since. A row being edited (a status picked, not
 * yet set) is not redrawn under the supervisor's hands: the redraw waits until focus leaves the board. */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-board]");
  if (!root || !window.SwitchboardLive) return;
  var REDRAW_MS = 300;
  var BOARD_EVENTS = /^(agent\.|break\.|interaction\.(assigned|resolved|queued))/;
  var timer = null;
  var pending = false;

  function busy() {
    return root.contains(document.activeElement) && document.activeElement.tagName === "SELECT";
  }

  function redraw() {
    timer = null;
    if (busy()) {
      pending = true;
      return;
    }
    pending = false;
    window.fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live-board] tbody");
        var body = root.querySelector("tbody");
        if (fresh && body) {
          body.replaceWith(document.importNode(fresh, true));
          root.dataset.redraws = String(Number(root.dataset.redraws || 0) + 1);
          tick();
        }
      })
      .catch(function () { /* the next event or reconnect redraws */ });
  }

  function redrawSoon() {
    if (!timer) timer = window.setTimeout(redraw, REDRAW_MS);
  }

  function tick() {
    var cells = root.querySelectorAll("td.in-status[data-since]");
    for (var i = 0; i < cells.length; i++) {
      var minutes = Math.max(0, Math.floor((Date.now() - Date.parse(cells[i].dataset.since)) / 60000));
      cells[i].textContent = String(minutes);
    }
  }

  root.addEventListener("focusout", function () {
    if (pending) window.setTimeout(function () { if (!busy()) redraw(); }, 50);
  });
  window.setInterval(tick, 15000);

  window.SwitchboardLive.connect("/ws/wallboard/", {
    onSnapshot: function () { redrawSoon(); },
    onEvent: function (event) { if (BOARD_EVENTS.test(event)) redrawSoon(); },
  });
})();
