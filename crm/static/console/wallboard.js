/* The supervisor wallboard over /ws/wallboard/: the snapshot redraws every queue and agent, events update
 * one row. Rows are built with DOM calls (textContent), never from HTML strings.
 *
 * Service level today and breaches in the last hour come with the snapshot only (queue.stats stays a cheap
 * figure of open work): sla.breached adds one to its queue's count at once, and a resync at most every
 * FIGURES_REFRESH_MS after queue activity (and every FIGURES_MAX_AGE_MS anyway, as breaches age out of
 * the hour) brings the exact figures. */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-wallboard]");
  if (!root) return;
  var Live = window.SwitchboardLive;
  var queueBody = root.querySelector(".wallboard-queues tbody");
  var inboxBody = root.querySelector(".wallboard-inboxes tbody");
  var agentBody = root.querySelector("#wallboard-agents tbody");
  var counts = document.getElementById("status-counts");
  var teamNamesScript = document.getElementById("team-names");
  var teamNames = teamNamesScript ? JSON.parse(teamNamesScript.textContent) : {};
  var FIGURES_REFRESH_MS = 15000;
  var FIGURES_MAX_AGE_MS = 60000;
  var refreshTimer = null;
  var lastSnapshotAt = Date.now();

  function cell(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = String(text);
    return el;
  }

  function queueRow(stats) {
    var row = queueBody.querySelector('tr[data-queue-id="' + stats.id + '"]');
    if (!row) {
      var empty = queueBody.querySelector("tr.empty");
      if (empty) empty.remove();
      row = document.createElement("tr");
      row.dataset.queueId = stats.id;
      var name = cell("th", "name");
      name.scope = "row";
      row.append(
        name, cell("td", "waiting"), cell("td", "oldest"), cell("td", "assigned"), cell("td", "active"),
        cell("td", "service-level", "—"), cell("td", "breaches", "0")
      );
      queueBody.appendChild(row);
    }
    Live.applyQueueStats(row, stats);
    if (stats.service_level_today !== undefined) {
      row.querySelector(".service-level").textContent =
        stats.service_level_today === null ? "—" : Math.round(stats.service_level_today * 100) + " %";
    }
    if (stats.sla_breaches_last_hour !== undefined) setBreaches(row, stats.sla_breaches_last_hour);
  }

  function inboxRow(stats) {
    if (!inboxBody) return;
    var row = inboxBody.querySelector('tr[data-inbox-id="' + stats.id + '"]');
    if (!row) {
      var empty = inboxBody.querySelector("tr.empty");
      if (empty) empty.remove();
      row = document.createElement("tr");
      row.dataset.inboxId = stats.id;
      var name = cell("th", "name");
      name.scope = "row";
      row.append(name, cell("td", "channel"), cell("td", "waiting"), cell("td", "oldest"), cell("td", "assigned"),
        cell("td", "active"));
      inboxBody.appendChild(row);
    }
    row.querySelector(".channel").textContent = stats.channel || "";
    Live.applyQueueStats(row, stats);
  }

  function setBreaches(row, count) {
    var breaches = row.querySelector(".breaches");
    breaches.textContent = String(count);
    breaches.classList.toggle("breaching", count > 0);
  }

  function onBreach(queueId, count) {
    var row = queueId === null ? null : queueBody.querySelector('tr[data-queue-id="' + queueId + '"]');
    if (row) setBreaches(row, Number(row.querySelector(".breaches").textContent || 0) + count);
    scheduleFigures();
  }

  function scheduleFigures() {
    if (refreshTimer || !Live.connection) return;
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      Live.connection.resync();
    }, FIGURES_REFRESH_MS);
  }

  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  function fill(format, values) {
    return format.replace(/%\((\w+)\)s/g, function (all, name) { return String(values[name]); });
  }

  // in the viewer's time zone (their preference, else the installation's), not the wall screen's clock
  function sinceText(iso) {
    return Live.formatTime(iso);
  }

  function agentRow(agent) {
    var row = agentBody.querySelector('tr[data-agent-id="' + agent.id + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.agentId = agent.id;
      var name = cell("th", "name");
      name.scope = "row";
      row.append(
        name, cell("td", "team"), cell("td", "status-cell"), cell("td", "since"), cell("td", "in-status"),
        cell("td", "on-break")
      );
      agentBody.appendChild(row);
    }
    if (agent.name !== undefined) row.querySelector(".name").textContent = agent.name;
    if (agent.team !== undefined) {
      var team = agent.team && typeof agent.team === "object" ? agent.team.name : teamNames[String(agent.team)];
      row.querySelector(".team").textContent = team || "—";
    }
    row.dataset.status = agent.status;
    var status = row.querySelector(".status-cell");
    status.textContent = "";
    status.appendChild(cell("span", "status status-" + agent.status, Live.statusLabel(agent.status)));
    row.querySelector(".since").textContent = sinceText(agent.status_changed_at);
    row.querySelector(".in-status").dataset.since = agent.status_changed_at || "";
    renderInStatus(row.querySelector(".in-status"));
    if (agent.on_break !== undefined) setBreak(row, agent.on_break);
    else if (agent.status !== "on_break") setBreak(row, null);
  }

  function setBreak(row, brk) {
    var box = row.querySelector(".on-break");
    box.textContent = "";
    if (!brk) return;
    var marker = cell("span", "break-marker", "☕ " + (brk.type_name || gettext("Break")) +
      (brk.ends_at ? " " + fill(gettext("until %(time)s"), { time: sinceText(brk.ends_at) }) : ""));
    box.appendChild(marker);
  }

  function onBreakEvent(name, data) {
    var row = agentBody.querySelector('tr[data-agent-id="' + data.agent + '"]');
    if (!row) return;
    if (name === "break.started") {
      setBreak(row, { type_name: data.break.type_name, ends_at: data.break.ends_at });
    } else if (name === "break.ended") {
      setBreak(row, null);
    }
  }

  function renderInStatus(box) {
    var since = box.dataset.since;
    box.textContent = since ? Live.formatWait((Date.now() - Date.parse(since)) / 1000) : "—";
  }

  function tickInStatus() {
    var boxes = agentBody.querySelectorAll(".in-status");
    for (var i = 0; i < boxes.length; i++) renderInStatus(boxes[i]);
    if (Date.now() - lastSnapshotAt > FIGURES_MAX_AGE_MS) scheduleFigures();
  }
  window.setInterval(tickInStatus, 1000);

  function recount() {
    var tally = {};
    var rows = agentBody.querySelectorAll("tr[data-agent-id]");
    for (var i = 0; i < rows.length; i++) tally[rows[i].dataset.status] = (tally[rows[i].dataset.status] || 0) + 1;
    var items = counts.querySelectorAll("li[data-status]");
    var seen = {};
    for (var j = 0; j < items.length; j++) {
      seen[items[j].dataset.status] = true;
      items[j].querySelector(".count").textContent = String(tally[items[j].dataset.status] || 0);
    }
    Object.keys(tally).forEach(function (status) {
      if (seen[status]) return; // a status the page did not list (e.g. one added later)
      var li = cell("li", "status-" + status);
      li.dataset.status = status;
      li.append(cell("span", "count", tally[status]), document.createTextNode(" "), cell("span", "label", Live.statusLabel(status)));
      counts.appendChild(li);
    });
  }

  // agent.disconnected: an agent's console has been gone for the grace period while they held chats (they are
  // offline now); the supervisor sees whose chats to take over. Dismissed by hand, or when the agent is back.
  var alerts = document.getElementById("disconnected-alerts");
  function onDisconnected(data) {
    if (!alerts) return;
    var item = alerts.querySelector('li[data-agent-id="' + data.agent + '"]') || cell("li", "disconnected-alert");
    item.dataset.agentId = data.agent;
    item.textContent = "";
    var chats = data.interactions || [];
    item.appendChild(document.createTextNode(
      fill(ngettext("%(name)s's console is gone with %(count)s chat open: ",
        "%(name)s's console is gone with %(count)s chats open: ", chats.length), { name: data.name, count: chats.length })
    ));
    chats.forEach(function (id, index) {
      var link = cell("a", "", "#" + id);
      link.href = "/admin/crm/interaction/" + encodeURIComponent(id) + "/change/";
      if (index) item.appendChild(document.createTextNode(", "));
      item.appendChild(link);
    });
    var dismiss = cell("button", "dismiss", gettext("Dismiss"));
    dismiss.type = "button";
    dismiss.addEventListener("click", function () { removeAlert(data.agent); });
    item.appendChild(document.createTextNode(" "));
    item.appendChild(dismiss);
    alerts.appendChild(item);
    document.getElementById("wb-alerts").hidden = false;
  }

  function removeAlert(agentId) {
    if (!alerts) return;
    var item = alerts.querySelector('li[data-agent-id="' + agentId + '"]');
    if (item) item.remove();
    document.getElementById("wb-alerts").hidden = !alerts.children.length;
  }

  function onSnapshot(data) {
    lastSnapshotAt = Date.now();
    if (refreshTimer) window.clearTimeout(refreshTimer);
    refreshTimer = null;
    queueBody.textContent = "";
    (data.queues || []).forEach(queueRow);
    if (inboxBody) {
      inboxBody.textContent = "";
      (data.inboxes || []).forEach(inboxRow);
    }
    agentBody.textContent = "";
    (data.agents || []).forEach(agentRow);
    recount();
  }

  function onEvent(name, data) {
    if (name === "queue.stats") {
      queueRow(data);
      scheduleFigures();
    } else if (name === "inbox.stats") {
      inboxRow(data);
    } else if (name === "sla.breached") {
      onBreach(data.queue, 1);
    } else if (name === "sla.breaches") {
      // a sweep with many breaches: one count per queue
      Object.keys(data.by_queue).forEach(function (queueId) { onBreach(queueId, data.by_queue[queueId]); });
    } else if (name === "agent.disconnected") {
      onDisconnected(data);
    } else if (name === "agent.status_changed") {
      if (data.status !== "offline") removeAlert(data.id);
      agentRow(data);
      recount();
    } else if (name === "break.started" || name === "break.ended") {
      onBreakEvent(name, data);
    }
  }

  var clock = document.getElementById("wallboard-clock");
  if (clock) {
    var tick = function () { clock.textContent = Live.formatTime(new Date(), true); };
    tick();
    window.setInterval(tick, 1000);
  }

  Live.connect("/ws/wallboard/", { onSnapshot: onSnapshot, onEvent: onEvent });
})();
