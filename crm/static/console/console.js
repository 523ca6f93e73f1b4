/* The agent console's live behaviour over /ws/console/, and small conveniences of the interaction page
 * (canned responses, Ctrl+Enter). The server renders every list; this file only asks htmx to re-fetch the
 * "my work" fragment when the agent's work changes, and updates queue figures and the status in place. */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-console]");
  if (!root) return;
  // Django's JavaScript catalogue (/jsi18n/, loaded by base.html) translates; without it, English.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  function fill(format, values) { // named placeholders, as Django's interpolate(format, values, true)
    return format.replace(/%\((\w+)\)s/g, function (all, name) { return String(values[name]); });
  }
  var Live = window.SwitchboardLive;
  var agentId = Number(root.dataset.agentId);
  var currentId = Number(root.dataset.interactionId || 0);
  var currentStatus = root.dataset.interactionStatus || "";
  var OWNED = { assigned: true, active: true, on_hold: true, wrap_up: true };
  // Statuses that read as the agent's own choice when they arrive live. Not ready is left out: one that arrives
  // live is the system's (a missed offer); the agent's own comes with a page load, where the server decides.
  var SELECTABLE = { available: true, on_break: true, offline: true };

  // Ids of the interactions this agent owns, as of the last snapshot or event. Kept in sessionStorage so
  // that work assigned while the agent moved between pages (a form post, a reload) is still announced.
  var storageKey = "switchboard.known-work." + agentId;
  var known = loadKnown();
  var pendingFlash = {};

  function loadKnown() {
    try {
      var stored = window.sessionStorage.getItem(storageKey);
      if (!stored) return null;
      var ids = {};
      JSON.parse(stored).forEach(function (id) { ids[id] = true; });
      return ids;
    } catch (err) {
      return null;
    }
  }

  function saveKnown() {
    try {
      window.sessionStorage.setItem(storageKey, JSON.stringify(Object.keys(known || {}).map(Number)));
    } catch (err) {
      /* storage full or disabled: announcements across page loads are lost, nothing else */
    }
  }

  // --- announcing new work --------------------------------------------------------------------------

  // Work offered to the agent (assigned, not yet accepted) stays listed at the top of every console page
  // until it is accepted or leaves them; work that is new since the agent last looked also flashes and,
  // with permission, raises a desktop notification.
  var offered = {};

  function describe(summary) {
    var customer = summary.customer && summary.customer.name ? summary.customer.name : gettext("a customer");
    return fill(gettext("New work: #%(id)s from %(customer)s"), { id: summary.id, customer: customer }) +
      (summary.subject ? " — " + summary.subject : "");
  }

  function renderOffered(flash) {
    var region = document.getElementById("new-work");
    if (!region) return;
    region.textContent = "";
    Object.keys(offered).forEach(function (id) {
      if (Number(id) === currentId) return; // the agent is looking at it already
      var item = document.createElement("p");
      var link = document.createElement("a");
      link.href = "/console/interactions/" + id + "/";
      link.textContent = describe(offered[id]);
      item.appendChild(link);
      region.appendChild(item);
    });
    if (flash) {
      region.classList.remove("flash");
      void region.offsetWidth; // restart the animation
      region.classList.add("flash");
    }
  }

  function track(summary) {
    var isOffered = summary.agent === agentId && summary.status === "assigned";
    if (isOffered) offered[summary.id] = summary;
    else delete offered[summary.id];
  }

  function announce(summary) {
    pendingFlash[summary.id] = true;
    if ("Notification" in window && window.Notification.permission === "granted") {
      try {
        new window.Notification(gettext("Switchboard: new work"), { body: describe(summary), tag: "interaction-" + summary.id });
      } catch (err) {
        /* some browsers allow notifications only from a service worker; the page announcement stays */
      }
    }
  }

  function flashRows() {
    Object.keys(pendingFlash).forEach(function (id) {
      var row = document.getElementById("work-" + id);
      if (row) {
        row.classList.add("flash");
        delete pendingFlash[id];
      }
    });
  }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "my-work") flashRows();
  });

  function refreshWork() {
    if (document.getElementById("my-work") && window.htmx) window.htmx.trigger(document.body, "sb:work-changed");
  }

  // --- applying state -------------------------------------------------------------------------------

  function applyAgent(agent) {
    if (!agent || agent.id !== agentId) return;
    var badge = document.getElementById("my-status");
    var changed = !badge || badge.dataset.status !== agent.status;
    if (badge) {
      badge.textContent = Live.statusLabel(agent.status);
      badge.className = "status status-" + agent.status;
      badge.dataset.status = agent.status;
    }
    var note = document.getElementById("status-system-note");
    if (note && changed) note.hidden = !!SELECTABLE[agent.status];
    var buttons = document.querySelectorAll(".status-button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].value === agent.status ? "true" : "false");
    }
  }

  function applyQueue(stats) {
    var table = document.querySelector("[data-queue-table]");
    if (!table) return;
    var row = table.querySelector('tr[data-queue-id="' + stats.id + '"]');
    if (row) {
      Live.applyQueueStats(row, stats);
    } else if (window.htmx && document.getElementById("queues")) {
      window.htmx.trigger(document.body, "sb:queues-changed"); // a queue the page has not drawn yet
    }
  }

  function applyCurrent(summary) {
    if (!currentId || summary.id !== currentId || summary.status === currentStatus) return;
    var notice = document.getElementById("interaction-live");
    if (!notice) return;
    notice.textContent = "";
    notice.appendChild(
      document.createTextNode(
        fill(gettext("This interaction is now %(status)s."), { status: Live.statusLabel(summary.status).toLowerCase() }) + " "
      )
    );
    var link = document.createElement("a");
    link.href = window.location.pathname;
    link.textContent = gettext("Reload to see the latest");
    notice.appendChild(link);
    notice.hidden = false;
  }

  // --- breaks and training ---------------------------------------------------------------------------

  function refreshBreak() {
    if (document.getElementById("break-panel") && window.htmx) window.htmx.trigger(document.body, "sb:break-changed");
  }

  function notice(text) {
    var region = document.getElementById("console-notices") || document.getElementById("new-work");
    if (!region) return;
    var item = document.createElement("p");
    item.className = "notice";
    item.textContent = text;
    region.appendChild(item);
  }

  function onBreakEvent(name, data) {
    if (data.agent !== agentId) return;
    if (name === "break.started") applyAgent({ id: agentId, status: "on_break" });
    // the panel draws the due prompt, the timer and the buttons from the server's state
    refreshBreak();
  }

  function onTrainingEvent(name, data) {
    if (data.agent !== agentId) return;
    if (name === "training.expired") {
      notice(fill(gettext("Your %(course)s certification has expired: renew it to take that work again."),
        { course: data.course }));
    } else if (data.days_left === null || data.days_left === undefined) {
      notice(fill(gettext("Your %(course)s certification expires soon."), { course: data.course }));
    } else {
      notice(fill(ngettext("Your %(course)s certification expires in %(days)s day.",
        "Your %(course)s certification expires in %(days)s days.", data.days_left),
        { course: data.course, days: data.days_left }));
    }
    if (document.getElementById("training-panel") && window.htmx) {
      window.htmx.trigger(document.body, "sb:training-changed");
    }
  }

  function onSnapshot(data) {
    // Every snapshot redraws the conversation shown, the first one too: a message written after the server drew
    // this page and before the socket joined its groups was published to nobody here (and a later snapshot
    // follows a reconnect or a gap, when messages may have been missed meanwhile). One fetch per snapshot, on
    // the interaction page only.
    refreshConversation(false);
    applyAgent(data.agent);
    refreshBreak(); // events missed while disconnected are in the panel the server draws now
    (data.queues || []).forEach(applyQueue);
    var ids = {};
    var fresh = false;
    offered = {};
    (data.interactions || []).forEach(function (summary) {
      ids[summary.id] = true;
      track(summary);
      if (known !== null && !known[summary.id] && summary.status === "assigned") {
        announce(summary);
        fresh = true;
      }
      applyCurrent(summary);
    });
    known = ids;
    saveKnown();
    renderOffered(fresh);
    refreshWork();
  }

  // A reply's delivery moved on (message.delivery): its status, error and retry button change in place.
  var DELIVERY_LABELS = { pending: gettext("Pending"), sent: gettext("Sent"), delivered: gettext("Delivered"), read: gettext("Read"), failed: gettext("Failed") };

  function applyDelivery(data) {
    if (!currentId || data.interaction !== currentId) return;
    var box = document.getElementById("delivery-" + data.message);
    if (!box) return; // a reply this page has not drawn: the next load shows it
    box.className = "delivery delivery-" + data.status;
    var label = box.querySelector(".delivery-status");
    if (label) label.textContent = DELIVERY_LABELS[data.status] || data.status;
    var error = box.querySelector(".delivery-error");
    if (error) error.textContent = data.error ? ": " + data.error : "";
    var retry = box.querySelector(".delivery-retry");
    if (retry) retry.hidden = data.status !== "failed";
  }

  // The customer wrote on the interaction this page shows (message.created): the conversation is drawn again
  // from the server's page, in place, so a reply being typed below it is left alone.
  var conversationFetch = null;
  var conversationAgain = null; // null, or whether the redraw owed after the one in flight announces

  function refreshConversation(announce) {
    var list = document.querySelector("ol.conversation");
    if (!currentId || !list || !window.fetch || !window.DOMParser) return;
    if (conversationFetch) {
      // the redraw in flight may have been read before this message was written: one more follows it (however
      // many arrive meanwhile)
      conversationAgain = Boolean(conversationAgain) || announce;
      return;
    }
    conversationFetch = window.fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new window.DOMParser().parseFromString(html, "text/html").querySelector("ol.conversation");
        if (!fresh) return;
        list.innerHTML = fresh.innerHTML;
        if (announce) notice(gettext("New message from the customer."));
      })
      .catch(function () { /* the next event or page load shows it */ })
      .then(function () {
        conversationFetch = null;
        if (conversationAgain !== null) {
          var again = conversationAgain;
          conversationAgain = null;
          refreshConversation(again);
        }
      });
  }

  // Website chat typing indicators (crm.widget.typing): the visitor's, shown above the reply box; the agent's,
  // sent while the reply box is being written (at most every 2 s; the server answers 404 for anything but a chat).
  var typingTimer = null, typingSent = 0;
  function showVisitorTyping() {
    var form = document.getElementById("reply-form");
    if (!form) return;
    var el = document.getElementById("visitor-typing");
    if (!el) {
      el = document.createElement("p"); el.id = "visitor-typing"; el.setAttribute("role", "status");
      form.parentNode.insertBefore(el, form);
    }
    el.textContent = gettext("The customer is typing…"); el.hidden = false;
    clearTimeout(typingTimer); typingTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }
  var replyBox = document.querySelector("#reply-form textarea");
  if (replyBox && currentId && window.fetch) {
    replyBox.addEventListener("input", function () {
      if (Date.now() - typingSent < 2000) return;
      typingSent = Date.now();
      window.fetch("/console/widget/typing/" + currentId + "/", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() }
      }).catch(function () { /* a typing hint is best effort */ });
    });
  }

  function onEvent(name, data) {
    if (name === "visitor.typing") {
      if (currentId && data.interaction_id === currentId) showVisitorTyping();
    } else if (name === "message.delivery") {
      applyDelivery(data);
    } else if (name === "message.created") {
      if (currentId && data.interaction === currentId) refreshConversation(true);
    } else if (name === "queue.stats") {
      applyQueue(data);
    } else if (name === "agent.status_changed") {
      applyAgent(data);
    } else if (name.indexOf("break.") === 0) {
      onBreakEvent(name, data);
    } else if (name.indexOf("training.") === 0) {
      onTrainingEvent(name, data);
    } else if (name.indexOf("interaction.") === 0) {
      var mine = data.agent === agentId && OWNED[data.status];
      if (known === null) known = {};
      var fresh = name === "interaction.assigned" && mine && !known[data.id];
      if (fresh) announce(data);
      track(data);
      renderOffered(fresh);
      var wasMine = !!known[data.id];
      if (mine) known[data.id] = true;
      else delete known[data.id];
      saveKnown();
      if (mine || wasMine) refreshWork();
      applyCurrent(data);
    }
  }

  Live.connect("/ws/console/", { onSnapshot: onSnapshot, onEvent: onEvent });

  // --- buttons that call the API (data-api): breaks ---------------------------------------------------
  // The session signs the call in; Django's CSRF check wants the token, which base.html hands htmx.

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (err) {
      return "";
    }
  }

  function label(field) {
    var words = field.replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // The API's error body in plain words: {"detail": "..."} or {"field": ["message", ...]}.
  function errorText(status, body) {
    if (body && typeof body === "object") {
      if (typeof body.detail === "string") return body.detail;
      var parts = [];
      Object.keys(body).forEach(function (field) {
        if (field === "status_code" || field === "code") return;
        var messages = [].concat(body[field]).join(" ");
        parts.push(field === "non_field_errors" || field === "detail" ? messages : label(field) + ": " + messages);
      });
      if (parts.length) return parts.join(" ");
    }
    if (status === 403) return gettext("You are not allowed to do that.");
    if (status === 404) return gettext("That break no longer exists; the panel has been refreshed.");
    return fill(gettext("Something went wrong (%(status)s); try again."), { status: status });
  }

  function showError(panel, text) {
    var box = document.getElementById(panel.id + "-error");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  function callApi(element, payload) {
    var panel = element.closest("[data-api-panel]");
    var buttons = panel ? panel.querySelectorAll("button") : [];
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    if (panel) showError(panel, "");
    return window
      .fetch(element.dataset.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(payload || {}),
      })
      .then(function (response) {
        if (response.ok) return null;
        return response.json().then(
          function (body) { return errorText(response.status, body); },
          function () { return errorText(response.status, null); }
        );
      }, function () {
        return gettext("The server could not be reached; check your connection and try again.");
      })
      .then(function (problem) {
        if (panel) showError(panel, problem);
        for (var j = 0; j < buttons.length; j++) buttons[j].disabled = false;
        refreshBreak();
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-api]");
    if (!button) return;
    event.preventDefault();
    callApi(button, {});
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-api]");
    if (!form) return;
    event.preventDefault();
    var payload = {};
    new window.FormData(form).forEach(function (value, key) { payload[key] = value; });
    callApi(form, payload);
  });

  // The break timer counts down locally from the planned end the server drew.
  function tickBreak() {
    var timers = document.querySelectorAll(".sb-break-timer[data-ends-at]");
    for (var i = 0; i < timers.length; i++) {
      var endsAt = Date.parse(timers[i].dataset.endsAt);
      if (!isNaN(endsAt)) timers[i].textContent = String(Math.max(0, Math.round((endsAt - Date.now()) / 1000)));
    }
  }
  window.setInterval(tickBreak, 1000);

  // --- desktop notifications (asked for only on a click: browsers refuse unprompted requests) ------

  var enable = document.getElementById("enable-notifications");
  if (enable && "Notification" in window && window.Notification.permission === "default") {
    enable.hidden = false;
    enable.addEventListener("click", function () {
      window.Notification.requestPermission().then(function () { enable.hidden = true; });
    });
  }

  // --- interaction page conveniences ----------------------------------------------------------------

  var cannedSelect = document.getElementById("canned-select");
  var cannedInsert = document.getElementById("canned-insert");
  var replyBox = document.getElementById("reply_body");
  if (cannedSelect && cannedInsert && replyBox) {
    cannedInsert.addEventListener("click", function () {
      var option = cannedSelect.options[cannedSelect.selectedIndex];
      if (!option || !option.value) return;
      var text = option.dataset.body || "";
      var start = replyBox.selectionStart || 0;
      var end = replyBox.selectionEnd || 0;
      replyBox.value = replyBox.value.slice(0, start) + text + replyBox.value.slice(end);
      replyBox.focus();
      replyBox.selectionStart = replyBox.selectionEnd = start + text.length;
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
      var form = event.target.form;
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });
})();
