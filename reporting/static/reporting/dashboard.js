// Draws the dashboards' charts from the page's JSON island (#report-charts) with Chart.js (vendor/).
// No inline scripts, no build step: the tables beside each chart carry the same figures.
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };  // Django's catalogue (/jsi18n/)
  function draw() {
    var island = document.getElementById("report-charts");
    if (!island || typeof Chart === "undefined") return;
    var data = JSON.parse(island.textContent);
    var percent = { min: 0, max: 1, ticks: { callback: function (v) { return Math.round(v * 100) + " %"; } } };
    var builders = {
      hourly: function (d) {
        return { type: "bar", data: { labels: d.labels, datasets: [
          { label: gettext("Offered"), data: d.offered, yAxisID: "y" },
          { label: gettext("Service level"), data: d.service_level, type: "line", yAxisID: "sl", spanGaps: true }
        ] }, options: { scales: { y: { beginAtZero: true }, sl: Object.assign({ position: "right" }, percent) } } };
      },
      daily: function (d) {
        return { type: "line", data: { labels: d.labels, datasets: [
          { label: gettext("AHT (s)"), data: d.aht, yAxisID: "y", spanGaps: true },
          { label: gettext("CSAT"), data: d.csat, yAxisID: "csat", spanGaps: true }
        ] }, options: { scales: { y: { beginAtZero: true }, csat: Object.assign({ position: "right" }, percent) } } };
      },
      fcr: function (d) {
        return { type: "bar", data: { labels: d.labels, datasets: [{ label: gettext("FCR"), data: d.fcr }] },
          options: { indexAxis: "y", scales: { x: percent } } };
      },
      staffing: function (d) {
        var sets = Object.keys(d.queues).map(function (name) { return { label: name, data: d.queues[name] }; });
        return { type: "bar", data: { labels: d.labels, datasets: sets },
          options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } };
      }
    };
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var name = canvas.getAttribute("data-chart");
      if (builders[name] && data[name]) new Chart(canvas, builders[name](data[name]));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
