// Small charts of what a backup holds, drawn with Chart.js on a canvas (offline, no styles the
// CSP forbids: Chart.js sizes its canvas through the CSSOM). Colours come from the theme's CSS
// variables and the charts are redrawn when the theme changes.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Tooltip, Legend);

type Colours = { text: string; muted: string; accent: string; border: string };

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** Changes whenever the light/dark theme does (the setting or the OS preference). */
function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((v) => v + 1);
    const observer = new MutationObserver(bump);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    media.addEventListener("change", bump);
    return () => {
      observer.disconnect();
      media.removeEventListener("change", bump);
    };
  }, []);
  return version;
}

/** A canvas with a chart built by `config` from the theme's colours. */
function ChartCanvas({ config, label, testId, points }: {
  config: (colours: Colours) => ChartConfiguration;
  label: string;
  testId: string;
  points: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const theme = useThemeVersion();
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(
      canvas.current,
      config({ text: cssVar("--text"), muted: cssVar("--muted"), accent: cssVar("--accent"), border: cssVar("--border") }),
    );
    return () => chart.destroy();
  }, [config, theme]);
  return (
    <div class="chart" data-testid={testId} data-points={points}>
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  );
}

/** Messages kept per month, as bars. */
export function MonthsChart({ months, label }: { months: { month: string; messages: number }[]; label: string }) {
  const config = useMemo(() => (c: Colours): ChartConfiguration => ({
    type: "bar",
    data: {
      labels: months.map((m) => m.month),
      datasets: [{ label, data: months.map((m) => m.messages), backgroundColor: c.accent, borderWidth: 0 }],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { ticks: { color: c.muted, maxTicksLimit: 8, autoSkip: true }, grid: { display: false } },
        y: { ticks: { color: c.muted, precision: 0 }, grid: { color: c.border }, beginAtZero: true },
      },
    },
  }), [months, label]);
  return <ChartCanvas config={config} label={label} testId="chart-months" points={months.filter((m) => m.messages > 0).length} />;
}

/** Each conversation's share of the space, as a doughnut. */
export function SharesChart({ slices, label }: { slices: { title: string; bytes: number }[]; label: string }) {
  const palette = ["--accent", "#2e9d5b", "#e07b1a", "#8e5bd8", "#d64545", "#1a9bb0", "--muted"];
  const config = useMemo(() => (c: Colours): ChartConfiguration => ({
    type: "doughnut",
    data: {
      labels: slices.map((s) => s.title),
      datasets: [
        {
          label,
          data: slices.map((s) => s.bytes),
          backgroundColor: slices.map((_, i) => {
            const p = palette[i % palette.length]!;
            return p.startsWith("--") ? (p === "--accent" ? c.accent : c.muted) : p;
          }),
          borderColor: c.border,
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: "right", labels: { color: c.text, boxWidth: 12 } } },
    },
  }), [slices, label]);
  return <ChartCanvas config={config} label={label} testId="chart-shares" points={slices.filter((s) => s.bytes > 0).length} />;
}
