/* Trend charts (Apache ECharts, vendored): every element with data-trend="<api url>" is filled with a line
 * chart of GET <url>?hours=N (sites/trends.py): each parameter's bucket means, its limits as dashed lines,
 * one y axis per unit (at most two: µg/m³ on the left, dB(A) on the right). Buttons with data-hours inside
 * [data-trend-hours] switch the window of every chart on the page. Charts refresh every minute.
 */
(function () {
  "use strict";
  if (!window.echarts || !window.fetch) return;

  var COLORS = ["#1f5fbf", "#d9822b", "#7a5195", "#2e8b57", "#c0392b"];
  var REFRESH_MS = 60000;
  var charts = [];
  var hours = 24;

  function fmtTime(ms) {
    var d = new Date(ms);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return (d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function option(data) {
    var units = [];
    data.series.forEach(function (s) {
      if (units.indexOf(s.unit) < 0 && units.length < 2) units.push(s.unit);
    });
    var series = data.series
      .filter(function (s) { return units.indexOf(s.unit) >= 0; })
      .map(function (s, i) {
        var color = COLORS[i % COLORS.length];
        return {
          name: s.label,
          type: "line",
          showSymbol: false,
          connectNulls: false,
          yAxisIndex: units.indexOf(s.unit),
          itemStyle: { color: color },
          lineStyle: { width: 1.5 },
          data: s.points.map(function (p) { return [Date.parse(p[0]), p[1]]; }),
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { type: "dashed", color: color },
            label: { formatter: s.label + " {b} {c}", position: "insideEndTop", fontSize: 10 },
            data: s.limits.map(function (l) { return { name: l.label, yAxis: l.warning }; }),
          },
        };
      });
    return {
      animation: false,
      grid: { left: 48, right: units.length > 1 ? 56 : 16, top: 52, bottom: 28 },
      legend: { type: "scroll", top: 0, itemWidth: 14, textStyle: { fontSize: 11 } },
      tooltip: {
        trigger: "axis",
        renderMode: "richText", // drawn by ECharts itself: its HTML tooltip would need inline styles (CSP)
        valueFormatter: function (v) { return v == null ? "-" : Number(v).toFixed(1); },
      },
      xAxis: {
        type: "time",
        min: Date.parse(data.since),
        max: Date.parse(data.until),
        axisLabel: { formatter: function (v) { return fmtTime(v); }, hideOverlap: true },
      },
      yAxis: units.map(function (u, i) {
        return { type: "value", name: u, position: i ? "right" : "left", scale: false, splitLine: { show: !i } };
      }),
      series: series,
    };
  }

  function load(entry) {
    var url = entry.el.getAttribute("data-trend") + "?hours=" + hours;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        if (!data.series.length) {
          entry.chart.clear();
          entry.chart.setOption({ title: { text: "所选时段内暂无有效数据", left: "center", top: "middle",
            textStyle: { fontSize: 13, color: "#888", fontWeight: "normal" } } });
          return;
        }
        entry.chart.setOption(option(data), true);
      })
      .catch(function () { /* keep what is shown; the next refresh tries again */ });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-trend]"), function (el) {
      var entry = { el: el, chart: window.echarts.init(el, null, { renderer: "svg" }) };
      charts.push(entry);
      load(entry);
    });
    if (!charts.length) return;
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.chart.resize(); }); });
    setInterval(function () {
      if (!document.hidden) charts.forEach(load);
    }, REFRESH_MS);
    Array.prototype.forEach.call(document.querySelectorAll("[data-trend-hours] [data-hours]"), function (b) {
      b.addEventListener("click", function () {
        hours = Number(b.getAttribute("data-hours"));
        Array.prototype.forEach.call(b.parentNode.querySelectorAll("[data-hours]"), function (o) {
          o.classList.toggle("active", o === b);
        });
        charts.forEach(load);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
