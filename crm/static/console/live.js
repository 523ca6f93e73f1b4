/* Switchboard live client: one websocket per page, shared by the agent console and the wallboard.
 *
 * Protocol (see the live-update brief): the server sends a snapshot first, then events numbered 1, 2, 3…
 * A jump in the numbers means a lost message: the client asks for a fresh snapshot ("resync") and ignores
 * events until it arrives. A dropped connection is retried with exponential backoff; the snapshot that
 * follows every (re)connect brings the page up to date, so a reconnect never leaves a stale screen.
 */
(function () {
  "use strict";

  // Django's JavaScript catalogue (/jsi18n/, loaded by the page) translates; without it, English.
  var gettext = window.gettext || function (text) { return text; };
  var LOST_TEXT = gettext("Connection lost — reconnecting…");
  var PING_EVERY_MS = 25000;
  var SILENCE_LIMIT_MS = 60000; // no frame at all for this long: the socket is dead even if not closed
  var MAX_BACKOFF_MS = 30000;

  var STATUS_LABELS = {
    offline: gettext("Offline"),
    available: gettext("Available"),
    busy: gettext("Busy"),
    wrap_up: gettext("Wrap-up"),
    on_break: gettext("On break"),
    not_ready: gettext("Not ready"),
    new: gettext("New"),
    queued: gettext("Queued"),
    assigned: gettext("Assigned"),
    active: gettext("Active"),
    on_hold: gettext("On hold"),
    resolved: gettext("Resolved"),
    closed: gettext("Closed"),
    abandoned: gettext("Abandoned"),
  };

  function statusLabel(status) {
    if (STATUS_LABELS[status]) return STATUS_LABELS[status];
    var words = String(status || "").replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // A time of day in the signed-in user's time zone and language (<html data-time-zone lang>), 24-hour clock.
  function formatTime(value, withSeconds) {
    if (!value) return "—";
    var date = value instanceof Date ? value : new Date(value);
    if (isNaN(date.getTime())) return "—";
    var root = document.documentElement;
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (withSeconds) options.second = "2-digit";
    if (root.dataset.timeZone) options.timeZone = root.dataset.timeZone;
    try {
      return new Intl.DateTimeFormat(root.lang || undefined, options).format(date);
    } catch (e) { // an unknown zone name: the browser's own
      delete options.timeZone;
      return new Intl.DateTimeFormat(root.lang || undefined, options).format(date);
    }
  }

  function formatWait(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "—";
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function setBanner(text, linkHref, linkText) {
    var banner = document.getElementById("live-banner");
    if (!banner) return;
    banner.textContent = "";
    if (!text) {
      banner.hidden = true;
      return;
    }
    banner.appendChild(document.createTextNode(text));
    if (linkHref) {
      var link = document.createElement("a");
      link.href = linkHref;
      link.textContent = linkText;
      banner.appendChild(document.createTextNode(" "));
      banner.appendChild(link);
    }
    banner.hidden = false;
  }

  function LiveConnection(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.seq = null; // null: waiting for a snapshot; events are ignored until it comes
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.lastFrameAt = 0;
    this.pingTimer = null;
    this.reconnectTimer = null;
    this.snapshots = 0;
    var self = this;
    window.addEventListener("pagehide", function () { self.stop(); });
    this.open();
  }

  LiveConnection.prototype.url = function () {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + this.path;
  };

  LiveConnection.prototype.open = function () {
    var self = this;
    this.reconnectTimer = null;
    this.seq = null;
    var ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = function () {
      self.lastFrameAt = Date.now();
      self.startPing();
    };
    ws.onmessage = function (message) {
      if (ws === self.ws) self.receive(message.data);
    };
    ws.onclose = function (event) {
      if (ws === self.ws) self.closed(event);
    };
  };

  LiveConnection.prototype.send = function (frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  };

  LiveConnection.prototype.receive = function (raw) {
    var frame;
    try {
      frame = JSON.parse(raw);
    } catch (err) {
      return;
    }
    this.lastFrameAt = Date.now();
    if (frame.type === "snapshot") {
      this.seq = typeof frame.seq === "number" ? frame.seq : 0;
      this.attempt = 0;
      this.snapshots += 1;
      setBanner(null);
      this.handlers.onSnapshot(frame.data || {});
    } else if (frame.type === "event") {
      if (this.seq === null) return; // a resync is on its way; its snapshot includes this change
      if (frame.seq <= this.seq) return; // already applied
      if (frame.seq !== this.seq + 1) {
        this.resync();
        return;
      }
      this.seq = frame.seq;
      this.handlers.onEvent(frame.event, frame.data || {});
    } else if (frame.type === "error") {
      if (window.console) window.console.warn("live update error:", frame.message);
    }
  };

  LiveConnection.prototype.resync = function () {
    this.seq = null;
    this.send({ type: "resync" });
  };

  LiveConnection.prototype.startPing = function () {
    var self = this;
    this.stopPing();
    this.pingTimer = window.setInterval(function () {
      if (Date.now() - self.lastFrameAt > SILENCE_LIMIT_MS && self.ws) {
        self.ws.close(); // onclose reconnects
        return;
      }
      self.send({ type: "ping" });
    }, PING_EVERY_MS);
  };

  LiveConnection.prototype.stopPing = function () {
    if (this.pingTimer) window.clearInterval(this.pingTimer);
    this.pingTimer = null;
  };

  LiveConnection.prototype.closed = function (event) {
    this.stopPing();
    this.ws = null;
    this.seq = null;
    if (this.stopped) return;
    if (event.code === 4401) {
      setBanner(gettext("You have been signed out, so live updates stopped."), "/accounts/login/?next=" +
        encodeURIComponent(window.location.pathname), gettext("Sign in again"));
      return;
    }
    if (event.code === 4403) {
      setBanner(gettext("Live updates are not available to your account."));
      return;
    }
    if (event.code === 4000 || event.code === 1012 || event.code === 1001) {
      // the server retires old sockets on purpose (4000), or is restarting or going away in a deploy (1012,
      // 1001: sent by uvicorn on SIGTERM): come straight back, with jitter, to whichever server is up; the
      // snapshot that follows brings the page up to date, so nothing is lost
      this.attempt = 0;
      this.scheduleReconnect();
      return;
    }
    setBanner(LOST_TEXT);
    this.scheduleReconnect();
  };

  LiveConnection.prototype.scheduleReconnect = function () {
    if (this.stopped || this.reconnectTimer) return;
    var self = this;
    var base = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, this.attempt));
    var delay = base / 2 + Math.random() * (base / 2); // jitter: a restarted server is not hit by all at once
    this.attempt += 1;
    this.reconnectTimer = window.setTimeout(function () { self.open(); }, delay);
  };

  LiveConnection.prototype.stop = function () {
    this.stopped = true;
    this.stopPing();
    if (this.reconnectTimer) window.clearTimeout(this.reconnectTimer);
    if (this.ws) this.ws.close();
  };

  /* Queue figures shared by the console and the wallboard: rows are <tr data-queue-id>, with cells
   * .waiting, .oldest and optionally .assigned / .active. The oldest wait ticks every second locally. */
  function applyQueueStats(row, stats) {
    var set = function (cls, value) {
      var cell = row.querySelector("." + cls);
      if (cell && value !== undefined && value !== null) cell.textContent = String(value);
    };
    set("name", stats.name);
    set("waiting", stats.waiting);
    set("assigned", stats.assigned);
    set("active", stats.active);
    var oldest = row.querySelector(".oldest");
    if (oldest) {
      if (stats.oldest_waiting_seconds === null || stats.oldest_waiting_seconds === undefined) {
        oldest.dataset.oldestAt = "";
      } else {
        oldest.dataset.oldestAt = new Date(Date.now() - stats.oldest_waiting_seconds * 1000).toISOString();
      }
      renderOldest(oldest);
    }
  }

  function renderOldest(cell) {
    var at = cell.dataset.oldestAt;
    cell.textContent = at ? formatWait((Date.now() - Date.parse(at)) / 1000) : "—";
  }

  function tickWaits() {
    var cells = document.querySelectorAll("[data-queue-table] .oldest");
    for (var i = 0; i < cells.length; i++) {
      var seconds = cells[i].dataset.oldestSeconds;
      if (seconds !== undefined) {
        // drawn by the server as "waited s seconds at render time": anchor it to this clock once
        cells[i].dataset.oldestAt = seconds === "" ? "" : new Date(Date.now() - Number(seconds) * 1000).toISOString();
        delete cells[i].dataset.oldestSeconds;
      }
      renderOldest(cells[i]);
    }
  }
  tickWaits();
  document.addEventListener("DOMContentLoaded", tickWaits);
  document.addEventListener("htmx:afterSwap", tickWaits);
  window.setInterval(tickWaits, 1000);

  window.SwitchboardLive = {
    connect: function (path, handlers) {
      var connection = new LiveConnection(path, handlers);
      window.SwitchboardLive.connection = connection;
      return connection;
    },
    connection: null,
    statusLabel: statusLabel,
    formatWait: formatWait,
    formatTime: formatTime,
    applyQueueStats: applyQueueStats,
    tickWaits: tickWaits,
  };
})();
