// Charts of riffled's own metrics (GET /api/streams/<name>/metrics and the stream list's
// sparklines), drawn by uPlot on a canvas. Colours come from the page's CSS variables, so a
// chart is drawn again when the theme changes; its width follows its container's.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { html } from './html.js';

// Told apart in light and dark alike; the first series (the stream's total) takes the accent.
const PALETTE = ['#e8590c', '#2f9e44', '#ae3ec9', '#1098ad', '#f08c00', '#d6336c', '#5c7cfa',
  '#74b816', '#868e96', '#9c36b5'];

function themeColours() {
  const style = getComputedStyle(document.documentElement);
  const v = (name) => style.getPropertyValue(name).trim();
  return { fg: v('--fg'), muted: v('--muted'), line: v('--line'), accent: v('--accent') };
}

// Calls `redraw` when the theme switches (the header's button or the system's setting).
function onThemeChange(redraw) {
  const observer = new MutationObserver(redraw);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  const media = matchMedia('(prefers-color-scheme: dark)');
  media.addEventListener('change', redraw);
  return () => {
    observer.disconnect();
    media.removeEventListener('change', redraw);
  };
}

// The x values of a history: each interval at its start, in seconds (uPlot's time unit).
export function timesOf(history, count) {
  const xs = new Array(count);
  for (let i = 0; i < count; i++) xs[i] = (history.start_ms + i * history.interval_ms) / 1000;
  return xs;
}

// A per-interval sum as a rate per second.
export const perSecond = (values, intervalMs) =>
  values.map((v) => (v === null ? null : v / (intervalMs / 1000)));

function useUplot(ref, makeOptions, data) {
  const plot = useRef(null);
  useEffect(() => {
    const el = ref.current;
    const build = () => {
      plot.current?.destroy();
      plot.current = new uPlot(makeOptions(el.clientWidth, themeColours()), data, el);
    };
    build();
    const stopTheme = onThemeChange(build);
    const resize = new ResizeObserver(() => {
      if (plot.current && el.clientWidth > 0 && plot.current.width !== el.clientWidth) {
        plot.current.setSize({ width: el.clientWidth, height: plot.current.height });
      }
    });
    resize.observe(el);
    return () => {
      stopTheme();
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [makeOptions]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
}

// A line chart with axes and a legend. series: [{label, values}], all as long as `xs`.
export function LineChart({ title, unit, xs, series }) {
  const ref = useRef(null);
  const labels = series.map((s) => s.label).join('\n');
  const makeOptions = useRef(null);
  if (makeOptions.current?.labels !== labels) {
    const fn = (width, c) => ({
      width: Math.max(width, 200),
      height: 220,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max ?? 0, 1)] } },
      axes: [
        { stroke: c.muted, grid: { stroke: c.line, width: 1 }, ticks: { stroke: c.line } },
        { stroke: c.muted, grid: { stroke: c.line, width: 1 }, ticks: { stroke: c.line }, size: 60 },
      ],
      legend: { live: true },
      series: [{}, ...series.map((s, i) => ({
        label: s.label,
        stroke: i === 0 ? c.accent : PALETTE[(i - 1) % PALETTE.length],
        width: i === 0 ? 2 : 1.25,
        spanGaps: false,
        value: (u, v) => (v === null || v === undefined ? '—' : `${formatNumber(v)} ${unit}`),
      }))],
    });
    fn.labels = labels;
    makeOptions.current = fn;
  }
  const data = [xs, ...series.map((s) => s.values)];
  useUplot(ref, makeOptions.current, data);
  // How many intervals of the first series have a value above 0: what a test can check.
  const points = (series[0]?.values ?? []).filter((v) => v !== null && v > 0).length;
  return html`<figure class="chart" data-points=${points}>
    <figcaption>${title}</figcaption>
    <div ref=${ref} class="chart-canvas" role="img" aria-label=${`${title}: ${series.map((s) => s.label).join(', ')}`}></div>
  </figure>`;
}

function sparklineOptions(width, c) {
  return {
    width: 120,
    height: 28,
    pxAlign: false,
    cursor: { show: false },
    select: { show: false },
    legend: { show: false },
    scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(max ?? 0, 1)] } },
    axes: [{ show: false }, { show: false }],
    padding: [2, 0, 2, 0],
    series: [{}, { stroke: c.accent, width: 1.25, fill: `${c.accent}33` }],
  };
}

// A small chart without axes, for a table cell; `label` says in words what it shows.
export function Sparkline({ values, label }) {
  const ref = useRef(null);
  const data = [values.map((_, i) => i), values];
  useUplot(ref, sparklineOptions, data);
  const total = values.reduce((sum, v) => sum + (v ?? 0), 0);
  return html`<span ref=${ref} class="sparkline" role="img" aria-label=${label} data-total=${total}></span>`;
}

export function formatNumber(v) {
  if (Math.abs(v) >= 1e9) return `${(v / 1e9).toFixed(1)} G`;
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)} M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
