/* Dashboard charts (看板图表). Data comes from the page (json_script #chart-data); ECharts is served
   locally from static/vendor/echarts (make assets). Without it the tables below still show the data. */
(function () {
  "use strict";
  var node = document.getElementById("chart-data");
  if (!node) { return; }
  var data = JSON.parse(node.textContent);
  var L = data.labels || {};
  if (typeof window.echarts === "undefined") {
    var note = document.getElementById("chart-note");
    if (note) { note.textContent = L.no_charts || ""; note.hidden = false; }
    document.querySelectorAll(".chart").forEach(function (el) { el.classList.add("nochart"); });
    return;
  }
  var palette = ["#c0392b", "#2874a6", "#d68910", "#229954", "#7d3c98", "#17a589", "#a04000",
                 "#5d6d7e", "#b7950b", "#1f618d", "#943126"];
  var charts = [];
  function init(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    option.color = option.color || palette;
    option.animation = false;
    chart.setOption(option);
    charts.push(chart);
  }
  function pct(v) { return v === null || v === undefined ? "—" : v.toFixed(2) + "%"; }

  var years = data.trend.map(function (t) { return String(t.year); });
  init("chart-trend", {
    tooltip: { trigger: "axis" },
    legend: { data: [L.remaining_people, L.incidence], bottom: 0 },
    grid: { left: 60, right: 60, top: 30, bottom: 50 },
    xAxis: { type: "category", data: years },
    yAxis: [
      { type: "value", name: L.remaining_people, minInterval: 1 },
      { type: "value", name: L.incidence, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }
    ],
    series: [
      { name: L.remaining_people, type: "bar", data: data.trend.map(function (t) { return t.remaining_people; }),
        itemStyle: { color: "#c0392b" },
        markPoint: undefined },
      { name: L.incidence, type: "line", yAxisIndex: 1, symbolSize: 7, connectNulls: false,
        data: data.trend.map(function (t) { return t.incidence; }), itemStyle: { color: "#2874a6" },
        tooltip: { valueFormatter: pct } }
    ]
  });

  init("chart-areas", {
    tooltip: { trigger: "axis" },
    legend: { data: [L.remaining_people, L.incidence], bottom: 0 },
    grid: { left: 60, right: 60, top: 30, bottom: 70 },
    xAxis: { type: "category", data: data.areas.map(function (a) { return a.name; }),
             axisLabel: { interval: 0, rotate: data.areas.length > 6 ? 30 : 0 } },
    yAxis: [
      { type: "value", name: L.remaining_people, minInterval: 1 },
      { type: "value", name: L.incidence, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }
    ],
    series: [
      { name: L.remaining_people, type: "bar", data: data.areas.map(function (a) { return a.remaining_people; }),
        itemStyle: { color: "#d68910" } },
      { name: L.incidence, type: "line", yAxisIndex: 1, symbolSize: 7,
        data: data.areas.map(function (a) { return a.incidence; }), itemStyle: { color: "#2874a6" },
        tooltip: { valueFormatter: pct } }
    ]
  });

  init("chart-causes", data.causes.length === 0 ? {
    title: { text: L.no_data || "", left: "center", top: "middle", textStyle: { color: "#7f8c8d", fontSize: 14, fontWeight: "normal" } },
    series: []
  } : {
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: { type: "scroll", orient: "vertical", right: 0, top: 10, bottom: 10 },
    series: [{ type: "pie", radius: ["35%", "68%"], center: ["38%", "52%"], data: data.causes,
               label: { formatter: "{b}\n{d}%" } }]
  });

  var vnames = L.verdict_names || {};
  var vtotal = Object.keys(data.verdicts).reduce(function (n, k) { return n + data.verdicts[k]; }, 0);
  var vcolors = { met: "#229954", not_met: "#c0392b", unassessable: "#7f8c8d" };
  init("chart-verdicts", vtotal === 0 ? {
    title: { text: L.no_assessment || "", left: "center", top: "middle", textStyle: { color: "#7f8c8d", fontSize: 14, fontWeight: "normal" } },
    series: []
  } : {
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: { bottom: 0 },
    series: [{ type: "pie", radius: "65%", center: ["50%", "46%"],
               data: Object.keys(data.verdicts).map(function (k) {
                 return { name: vnames[k] || k, value: data.verdicts[k], itemStyle: { color: vcolors[k] } };
               }),
               label: { formatter: "{b}\n{c}" } }]
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
