/* The supervisor wallboard over /ws/wallboard/: the snapshot redraws every queue and agent, events update
 * one row. Rows are built with DOM calls (textContent), never from HTML strings. */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-wallboard]");
  if (!root) return;
  var Live = window.SwitchboardLive;
  var queueBody = root.querySelector(".wallboard-queues tbody");
  var agentBody = root.querySelector("#wallboard-agents tbody");
  var counts = document.getElementById("status-counts");
  var teamNamesScript = document.getElementById("team-names");
  var teamNames = teamNamesScript ? JSON.parse(teamNamesScript.textContent) : {};

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
      row.append(name, cell("td", "waiting"), cell("td", "oldest"), cell("td", "assigned"), cell("td", "active"));
      queueBody.appendChild(row);
    }
    Live.applyQueueStats(row, stats);
  }

  function sinceText(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function agentRow(agent) {
    var row = agentBody.querySelector('tr[data-agent-id="' + agent.id + '"]');
    if (!row) {
      row = document.createElement("tr");
      row.dataset.agentId = agent.id;
      var name = cell("th", "name");
      name.scope = "row";
      row.append(name, cell("td", "team"), cell("td", "status-cell"), cell("td", "since"));
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
  }

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

  function onSnapshot(data) {
    queueBody.textContent = "";
    (data.queues || []).forEach(queueRow);
    agentBody.textContent = "";
    (data.agents || []).forEach(agentRow);
    recount();
  }

  function onEvent(name, data) {
    if (name === "queue.stats") {
      queueRow(data);
    } else if (name === "agent.status_changed") {
      agentRow(data);
      recount();
    }
  }

  var clock = document.getElementById("wallboard-clock");
  if (clock) {
    var tick = function () { clock.textContent = new Date().toLocaleTimeString(); };
    tick();
    window.setInterval(tick, 1000);
  }

  Live.connect("/ws/wallboard/", { onSnapshot: onSnapshot, onEvent: onEvent });
})();
