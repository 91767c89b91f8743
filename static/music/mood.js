// The mood history charts (Chart.js, vendored UMD build: window.Chart). Data from the page (json_script).
const root = document.getElementById("mood");
const data = JSON.parse(document.getElementById("mood-data").textContent);
const { Chart } = window;
const ACCENT = "#6b4ee6";
const TEAL = "#2bb3a3";
const ROSE = "#f08cb6";
const t = (name) => root.dataset[name] || name;
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.animation = false;  // charts appear at once (and screenshots show them)

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (canvas) new Chart(canvas, config);
}

draw("chart-sessions", {
  type: "bar",
  data: {
    labels: data.sessions.map((s) => s.label),
    datasets: [
      { label: t("tBefore"), data: data.sessions.map((s) => s.before), backgroundColor: ROSE },
      { label: t("tAfter"), data: data.sessions.map((s) => s.after), backgroundColor: TEAL },
    ],
  },
  options: { scales: { y: { min: 0, max: 100, title: { display: true, text: t("tCloseness") } } } },
});

draw("chart-readings", {
  type: "line",
  data: {
    labels: data.readings.map((r) => r.label),  // ["MM-DD", "HH:MM"]: two lines, distinct (server-side)
    datasets: [
      { label: t("tValence"), data: data.readings.map((r) => r.valence), borderColor: ACCENT, backgroundColor: ACCENT,
        tension: 0.25 },
      { label: t("tArousal"), data: data.readings.map((r) => r.arousal), borderColor: ROSE, backgroundColor: ROSE,
        tension: 0.25, borderDash: [4, 3] },
    ],
  },
  options: {
    scales: { y: { min: -1, max: 1 }, x: { ticks: { maxRotation: 0, autoSkipPadding: 8 } } },
    plugins: { tooltip: { callbacks: { afterLabel: (item) => data.readings[item.dataIndex].emotion_label } } },
  },
});

function ranking(id, rows) {
  draw(id, {
    type: "bar",
    data: {
      labels: rows.map((r) => `${r.name} (${r.count})`),
      datasets: [{ label: t("tImprovement"), data: rows.map((r) => r.gain),
                   backgroundColor: rows.map((r) => (r.gain >= 0 ? TEAL : ROSE)) }],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false } },
      // points gained towards the target on the before/after chart's 0–100 closeness scale
      scales: { x: { suggestedMin: -10, suggestedMax: 10, grace: "10%", ticks: { precision: 0 },
                     title: { display: true, text: t("tGain") } } },
    },
  });
}
ranking("chart-targets", data.by_target);
ranking("chart-styles", data.by_style);
document.body.dataset.chartsReady = "true";
