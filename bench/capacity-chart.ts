/**
 * The capacity run as a picture (bench:capacity writes it to bench/capacity.svg): CCU against p99
 * intent -> result (with the one-round limit a step must stay under) and against the game server's
 * CPU on its core, one line per server. A held step is a filled dot, a failed one hollow. Plain
 * SVG text, no dependency: the README and bench/results.md show the file as an image.
 */
import type { Step } from "./capacity.ts";

const WIDTH = 960;
const HEIGHT = 400;
const PANEL = { width: 380, height: 270, top: 70, left: [70, 550] };
const COLORS: Record<string, string> = { skirmish: "#1f6fb4", baseline: "#c0392b", before: "#7f8c8d" };
const FALLBACK = ["#27ae60", "#8e44ad", "#d35400"];

/** A round step (1, 2 or 5 times a power of ten) giving about `count` ticks up to `max`. */
function tickStep(max: number, count = 5): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return power * (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10);
}

function axisMax(values: number[], floor: number): number {
  const max = Math.max(floor, ...values.filter(Number.isFinite));
  const step = tickStep(max);
  return Math.ceil(max / step) * step;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

interface Panel {
  left: number;
  title: string;
  yLabel: string;
  yMax: number;
  value: (s: Step) => number;
  /** a dashed horizontal line at this value, labelled */
  limit?: { at: number; label: string };
}

function panel(
  p: Panel,
  steps: readonly Step[],
  xMax: number,
  servers: string[],
  color: (s: string) => string,
): string {
  const { width, height, top } = PANEL;
  const x = (ccu: number) => p.left + (ccu / xMax) * width;
  const y = (v: number) => top + height - (Math.min(v, p.yMax) / p.yMax) * height;
  const out: string[] = [
    `<text x="${p.left + width / 2}" y="${top - 12}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
    `<rect x="${p.left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#999"/>`,
  ];
  for (let v = 0; v <= xMax; v += tickStep(xMax)) {
    out.push(
      `<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${top + height}" stroke="#eee"/>`,
      `<text x="${x(v)}" y="${top + height + 16}" text-anchor="middle">${v}</text>`,
    );
  }
  for (let v = 0; v <= p.yMax; v += tickStep(p.yMax)) {
    out.push(
      `<line x1="${p.left}" y1="${y(v)}" x2="${p.left + width}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${p.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  out.push(
    `<text x="${p.left + width / 2}" y="${top + height + 36}" text-anchor="middle">CCU</text>`,
    `<text transform="translate(${p.left - 48} ${top + height / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`,
  );
  if (p.limit) {
    out.push(
      `<line x1="${p.left}" y1="${y(p.limit.at)}" x2="${p.left + width}" y2="${y(p.limit.at)}" stroke="#555" stroke-dasharray="6 4"/>`,
      `<text x="${p.left + width - 4}" y="${y(p.limit.at) - 5}" text-anchor="end" fill="#555">${esc(p.limit.label)}</text>`,
    );
  }
  for (const server of servers) {
    const points = steps
      .filter((s) => s.server === server && s.ccu > 0 && Number.isFinite(p.value(s)))
      .sort((a, b) => a.ccu - b.ccu);
    if (points.length === 0) continue;
    out.push(
      `<polyline fill="none" stroke="${color(server)}" stroke-width="2" points="${points.map((s) => `${x(s.ccu).toFixed(1)},${y(p.value(s)).toFixed(1)}`).join(" ")}"/>`,
      ...points.map(
        (s) =>
          `<circle cx="${x(s.ccu).toFixed(1)}" cy="${y(p.value(s)).toFixed(1)}" r="4" stroke="${color(server)}" stroke-width="2" fill="${s.ok ? color(server) : "white"}"><title>${esc(`${server} ${s.ccu} CCU: ${p.value(s).toFixed(1)} ${p.yLabel}${s.ok ? "" : " (not held)"}`)}</title></circle>`,
      ),
    );
  }
  return out.join("\n");
}

export function capacityChart(steps: readonly Step[], roundIntervalMs: number, title: string): string {
  const servers = [...new Set(steps.map((s) => s.server))];
  const color = (server: string) => COLORS[server] ?? FALLBACK[servers.indexOf(server) % FALLBACK.length];
  const xMax = axisMax(
    steps.map((s) => s.ccu),
    100,
  );
  const legend = servers.map(
    (server, i) =>
      `<circle cx="${80 + i * 150}" cy="36" r="5" fill="${color(server)}"/><text x="${92 + i * 150}" y="40">${esc(server)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    ...legend,
    `<text x="${WIDTH - 10}" y="40" text-anchor="end" fill="#555">filled: step held, hollow: not held</text>`,
    panel(
      {
        left: PANEL.left[0],
        title: "p99 intent -> round result (steady state)",
        yLabel: "ms",
        yMax: axisMax(
          steps.map((s) => s.p99),
          roundIntervalMs * 1.2,
        ),
        value: (s) => s.p99,
        limit: { at: roundIntervalMs, label: `one round (${roundIntervalMs} ms)` },
      },
      steps,
      xMax,
      servers,
      color,
    ),
    panel(
      {
        left: PANEL.left[1],
        title: "game server CPU (its one core)",
        yLabel: "% of a core",
        yMax: axisMax(
          steps.map((s) => s.serverCpu),
          100,
        ),
        value: (s) => s.serverCpu,
        limit: { at: 100, label: "core saturated" },
      },
      steps,
      xMax,
      servers,
      color,
    ),
    `</svg>`,
    "",
  ].join("\n");
}
