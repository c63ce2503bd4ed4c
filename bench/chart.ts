/**
 * The run's chart as one dependency-free SVG: (a) the latency distribution of each latency scenario as an
 * empirical CDF on a log time axis; (b) revocation lateness (p50 and p99) against load, the rate at which grants
 * expired, from the throughput steps, the steady scenario and the burst; (c) the steady scenario's lateness of
 * each revoke against the time since the first expiry.
 */
import type { BenchResults } from './report';

const W = 900;
const PANEL_H = 300;
const M = { left: 70, right: 190, top: 40, bottom: 48 };
const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v >= 1000 ? `${+(v / 1000).toFixed(1)} s` : `${+v.toFixed(v < 10 ? 1 : 0)} ms`);

interface Scale {
  (v: number): number;
  ticks: number[];
  label: (v: number) => string;
}

function logScale(min: number, max: number, from: number, to: number, label = fmt): Scale {
  const lo = Math.log10(Math.max(min, 1e-3));
  const hi = Math.max(Math.log10(Math.max(max, min * 10)), lo + 1);
  const lo0 = Math.floor(lo);
  const hi0 = Math.ceil(hi);
  const s = ((v: number) =>
    from + ((Math.log10(Math.max(v, 1e-3)) - lo0) / (hi0 - lo0)) * (to - from)) as Scale;
  s.ticks = [];
  for (let e = lo0; e <= hi0; e++)
    for (const m of [1, 2, 5]) if (e + Math.log10(m) <= hi0) s.ticks.push(m * 10 ** e);
  s.label = label;
  return s;
}

function linScale(min: number, max: number, from: number, to: number, label: (v: number) => string): Scale {
  const span = max - min || 1;
  const s = ((v: number) => from + ((v - min) / span) * (to - from)) as Scale;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((x) => x >= raw) ?? raw;
  s.ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) s.ticks.push(+v.toFixed(6));
  s.label = label;
  return s;
}

function axes(top: number, x: Scale, y: Scale, xTitle: string, yTitle: string, title: string): string[] {
  const bottom = top + PANEL_H - M.bottom;
  const out = [
    `<text x="${M.left}" y="${top + 22}" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${M.left}" y1="${bottom}" x2="${W - M.right}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${top + M.top}" x2="${M.left}" y2="${bottom}" stroke="#333"/>`,
  ];
  for (const t of x.ticks) {
    const px = x(t);
    if (px < M.left - 0.5 || px > W - M.right + 0.5) continue;
    out.push(`<line x1="${px}" y1="${top + M.top}" x2="${px}" y2="${bottom}" stroke="#eee"/>`);
    out.push(
      `<text x="${px}" y="${bottom + 16}" font-size="11" text-anchor="middle">${esc(x.label(t))}</text>`,
    );
  }
  for (const t of y.ticks) {
    const py = y(t);
    if (py < top + M.top - 0.5 || py > bottom + 0.5) continue;
    out.push(`<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#eee"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${py + 4}" font-size="11" text-anchor="end">${esc(y.label(t))}</text>`,
    );
  }
  out.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${bottom + 36}" font-size="12" text-anchor="middle">${esc(xTitle)}</text>`,
    `<text x="16" y="${(top + M.top + bottom) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${(top + M.top + bottom) / 2})">${esc(yTitle)}</text>`,
  );
  return out;
}

function legend(top: number, items: { label: string; color: string; dot?: boolean }[]): string[] {
  return items.flatMap((it, i) => {
    const y = top + M.top + 8 + i * 18;
    const x = W - M.right + 14;
    const mark = it.dot
      ? `<circle cx="${x + 9}" cy="${y - 4}" r="4" fill="${it.color}"/>`
      : `<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="${it.color}" stroke-width="2.5"/>`;
    return [mark, `<text x="${x + 24}" y="${y}" font-size="11">${esc(it.label)}</text>`];
  });
}

export function renderChart(r: BenchResults): string {
  const parts: string[] = [];
  let top = 0;
  const title = `Grantflow bench (${r.mode}), ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC — ${r.machine.cores} cores`;
  parts.push(`<text x="${M.left}" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`);
  top += 30;

  // (a) CDFs.
  const series: { label: string; samples: number[] }[] = [];
  const s = r.scenarios;
  if (s.baseline) series.push({ label: 'baseline (bare Temporal)', samples: s.baseline.samples });
  if (s.access) series.push({ label: 'time to access (auto)', samples: s.access.samples });
  const bl = s['baseline-loaded'];
  const al = s['access-loaded'];
  if (bl) series.push({ label: `baseline, ${bl.concurrency} in flight`, samples: bl.samples });
  if (al) series.push({ label: `time to access, ${al.concurrency} in flight`, samples: al.samples });
  if (s.approval) series.push({ label: 'approval to access', samples: s.approval.samples });
  for (const step of s.throughput?.steps ?? [])
    series.push({ label: `throughput ${step.rps}/s`, samples: step.samples });
  const all = series.flatMap((x) => x.samples).filter((v) => v > 0);
  if (all.length) {
    const x = logScale(Math.min(...all), Math.max(...all), M.left, W - M.right);
    const bottom = top + PANEL_H - M.bottom;
    const y = linScale(0, 1, bottom, top + M.top, (v) => `${Math.round(v * 100)}%`);
    parts.push(
      ...axes(top, x, y, 'latency (log scale)', 'share of requests at or below', '(a) Latency distributions'),
    );
    series.forEach((ser, i) => {
      const sorted = [...ser.samples].filter((v) => v > 0).sort((a, b) => a - b);
      if (!sorted.length) return;
      const step = Math.max(1, Math.floor(sorted.length / 400));
      const pts: string[] = [];
      for (
        let k = 0;
        k < sorted.length;
        k += k + step < sorted.length ? step : Math.max(1, sorted.length - 1 - k)
      )
        pts.push(`${x(sorted[k]).toFixed(1)},${y((k + 1) / sorted.length).toFixed(1)}`);
      parts.push(
        `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`,
      );
    });
    parts.push(
      ...legend(
        top,
        series.map((ser, i) => ({ label: ser.label, color: COLORS[i % COLORS.length] })),
      ),
    );
    top += PANEL_H;
  }

  // (b) Lateness against load.
  const points: { rate: number; p50: number; p99: number; label: string }[] = [];
  for (const step of s.throughput?.steps ?? [])
    if (step.revokeLatenessMs && step.revokeLatenessMs.n > 0)
      points.push({
        rate: step.rps,
        p50: step.revokeLatenessMs.p50,
        p99: step.revokeLatenessMs.p99,
        label: `throughput ${step.rps}/s`,
      });
  if (s.steady && s.steady.latenessMs.n > 0)
    points.push({
      rate: s.steady.expiriesPerSecond,
      p50: s.steady.latenessMs.p50,
      p99: s.steady.latenessMs.p99,
      label: 'steady',
    });
  if (s.burst && s.burst.latenessMs.n > 0)
    points.push({
      rate: s.burst.expiriesPerSecond,
      p50: s.burst.latenessMs.p50,
      p99: s.burst.latenessMs.p99,
      label: 'burst (same second)',
    });
  if (points.length) {
    const rates = points.map((p) => p.rate);
    const lat = points.flatMap((p) => [p.p50, p.p99]).filter((v) => v > 0);
    const x = logScale(Math.min(...rates), Math.max(...rates), M.left, W - M.right, (v) => `${v}/s`);
    const bottom = top + PANEL_H - M.bottom;
    const y = logScale(Math.min(...lat, 10), Math.max(...lat, 100), bottom, top + M.top);
    parts.push(
      ...axes(
        top,
        x,
        y,
        'grants expiring per second (log scale)',
        'expiry → access gone (log)',
        '(b) Revocation lateness against load',
      ),
    );
    for (const p of points) {
      const px = x(p.rate);
      parts.push(
        `<line x1="${px}" y1="${y(Math.max(p.p50, 1))}" x2="${px}" y2="${y(Math.max(p.p99, 1))}" stroke="#999"/>`,
        `<circle cx="${px}" cy="${y(Math.max(p.p50, 1))}" r="4.5" fill="${COLORS[0]}"><title>${esc(p.label)} p50 ${fmt(p.p50)}</title></circle>`,
        `<circle cx="${px}" cy="${y(Math.max(p.p99, 1))}" r="4.5" fill="${COLORS[1]}"><title>${esc(p.label)} p99 ${fmt(p.p99)}</title></circle>`,
        `<text x="${px + 7}" y="${y(Math.max(p.p99, 1)) - 6}" font-size="10">${esc(p.label)}</text>`,
      );
    }
    parts.push(
      ...legend(top, [
        { label: 'p50', color: COLORS[0], dot: true },
        { label: 'p99', color: COLORS[1], dot: true },
      ]),
    );
    top += PANEL_H;
  }

  // (c) Steady lateness over time.
  const pts = s.steady?.series ?? [];
  if (pts.length) {
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => Math.max(p[1], 1));
    const x = linScale(0, Math.max(...xs, 1), M.left, W - M.right, (v) => `${v} s`);
    const bottom = top + PANEL_H - M.bottom;
    const y = logScale(Math.min(...ys, 10), Math.max(...ys, 100), bottom, top + M.top);
    parts.push(
      ...axes(
        top,
        x,
        y,
        'time since the first expiry',
        'expiry → access gone (log)',
        `(c) Steady: ${s.steady?.grants} grants expiring over ${Math.round((s.steady?.spreadMs ?? 0) / 1000)} s`,
      ),
    );
    for (const [px, py] of pts)
      parts.push(
        `<circle cx="${x(px).toFixed(1)}" cy="${y(Math.max(py, 1)).toFixed(1)}" r="1.6" fill="${COLORS[0]}" fill-opacity="0.6"/>`,
      );
    top += PANEL_H;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${top + 10}" viewBox="0 0 ${W} ${top + 10}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
