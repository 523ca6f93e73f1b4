/* The admin's landing dashboard, live over /ws/wallboard/ (as the agent board): no polling, no meta refresh.
 * Any event of the supervisor's teams may move a figure, so the figures are redrawn from the server's own
 * rendering of the page, at most once per REDRAW_MS whatever the rate of events; a (re)connect's snapshot redraws
 * them too, so a dropped socket leaves nothing stale. Only the figures are replaced: focus and the navigation stay. */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-dashboard]");
  if (!root || !root.hasAttribute("data-live") || !window.SwitchboardLive) return;
  var REDRAW_MS = 1000; // a busy floor sends many events a second: every open dashboard redraws once a second at most
  var timer = null;
  var inFlight = false;
  var again = false;

  function redraw() {
    timer = null;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    window.fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live-dashboard] [data-figures]");
        var current = root.querySelector("[data-figures]");
        if (!fresh || !current) return;
        var focused = document.activeElement && current.contains(document.activeElement)
          ? document.activeElement.getAttribute("href") : null;
        current.replaceWith(document.importNode(fresh, true));
        root.dataset.redraws = String(Number(root.dataset.redraws || 0) + 1);
        if (focused) {
          var target = root.querySelector('[data-figures] a[href="' + CSS.escape(focused) + '"]');
          if (target) target.focus();
        }
      })
      .catch(function () { /* the next event or reconnect redraws */ })
      .then(function () {
        inFlight = false;
        if (again) {
          again = false;
          redrawSoon();
        }
      });
  }

  function redrawSoon() {
    if (!timer) timer = window.setTimeout(redraw, REDRAW_MS);
  }

  window.SwitchboardLive.connect("/ws/wallboard/", {
    onSnapshot: function () { redrawSoon(); },
    onEvent: function () { redrawSoon(); },
  });
})();
