/** Minimal inline-SVG charts for the HTML report (no plotting dependency, renders offline). */

const W = 560;
const H = 240;
const PAD = { left: 56, right: 16, top: 16, bottom: 40 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(+v.toFixed(3));
}

function axes(p: { yMin: number; yMax: number; xLabel: string; yLabel: string }): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = PAD.top + (1 - f) * (H - PAD.top - PAD.bottom);
    const v = p.yMin + f * (p.yMax - p.yMin);
    return `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${PAD.left - 6}" y="${y + 4}" font-size="10" text-anchor="end">${fmt(v)}</text>`;
  });
  return [
    ...ticks,
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#333"/>`,
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#333"/>`,
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(p.xLabel)}</text>`,
    `<text x="12" y="${(PAD.top + H - PAD.bottom) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(PAD.top + H - PAD.bottom) / 2})">${esc(p.yLabel)}</text>`,
  ].join('');
}

const SERIES_COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

function legend(names: string[]): string {
  return names.map((n, i) => `<rect x="${W - PAD.right - 110}" y="${PAD.top + i * 14}" width="10" height="10" fill="${SERIES_COLOURS[i % SERIES_COLOURS.length]}"/><text x="${W - PAD.right - 96}" y="${PAD.top + 9 + i * 14}" font-size="10">${esc(n.slice(0, 18))}</text>`).join('');
}

/** One or more named series over a shared x axis (a legend when there are several). */
export function lineChart(p: { series: { name: string; points: [number, number][] }[]; xLabel: string; yLabel: string }): string {
  const all = p.series.flatMap((s) => s.points);
  if (all.length === 0) return '<p>(no data)</p>';
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const yMax = y1 === y0 ? y0 + 1 : y1;
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => PAD.top + (1 - (y - y0) / (yMax - y0)) * (H - PAD.top - PAD.bottom);
  const paths = p.series.map((s, i) => {
    const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    // A single point draws no line: mark every point.
    const dots = s.points.length < 30 ? s.points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2" fill="${SERIES_COLOURS[i % SERIES_COLOURS.length]}"/>`).join('') : '';
    return `<path d="${d}" fill="none" stroke="${SERIES_COLOURS[i % SERIES_COLOURS.length]}" stroke-width="1.5"><title>${esc(s.name)}</title></path>${dots}`;
  });
  return `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${axes({ yMin: y0, yMax, xLabel: p.xLabel, yLabel: p.yLabel })}${paths.join('')}${p.series.length > 1 ? legend(p.series.map((s) => s.name)) : ''}</svg>`;
}

/** Bars per group (e.g. per task), one bar per series in each (e.g. per agent); a legend when there are several series. */
export function barChart(p: { groups: { label: string; values: (number | null)[] }[]; series?: string[]; yLabel: string }): string {
  const vals = p.groups.flatMap((g) => g.values).filter((v): v is number => v !== null);
  if (vals.length === 0) return '<p>(no data)</p>';
  const nSeries = Math.max(...p.groups.map((g) => g.values.length));
  const yMin = Math.min(0, ...vals);
  const yMax = Math.max(0, ...vals) === yMin ? yMin + 1 : Math.max(0, ...vals);
  const sy = (y: number) => PAD.top + (1 - (y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const slot = (W - PAD.left - PAD.right) / p.groups.length;
  const width = (slot * 0.7) / nSeries;
  const bars = p.groups.map((g, i) => {
    const x0 = PAD.left + i * slot + slot * 0.15;
    const rects = g.values.map((v, j) => {
      if (v === null) return '';
      const [top, bottom] = [sy(Math.max(0, v)), sy(Math.min(0, v))];
      const colour = nSeries > 1 ? SERIES_COLOURS[j % SERIES_COLOURS.length] : v >= 0 ? '#16a34a' : '#dc2626';
      const name = p.series?.[j] ? `${p.series[j]} on ${g.label}` : g.label;
      return `<rect x="${(x0 + j * width).toFixed(1)}" y="${top.toFixed(1)}" width="${width.toFixed(1)}" height="${Math.max(1, bottom - top).toFixed(1)}" fill="${colour}"><title>${esc(name)}: ${fmt(v)}</title></rect>`;
    });
    return `${rects.join('')}<text x="${(x0 + slot * 0.35).toFixed(1)}" y="${H - PAD.bottom + 12}" font-size="9" text-anchor="middle">${esc(g.label.slice(0, 12))}</text>`;
  });
  return `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${axes({ yMin, yMax, xLabel: '', yLabel: p.yLabel })}${bars.join('')}${nSeries > 1 && p.series ? legend(p.series) : ''}</svg>`;
}

/** A table as SVG text (for a standalone figure of the evaluation table). */
export function tableSvg(p: { header: string[]; rows: string[][] }): string {
  const charW = 6.2;
  const widths = p.header.map((h, c) => 12 + charW * Math.max(h.length, ...p.rows.map((r) => (r[c] ?? '').length)));
  const rowH = 18;
  const width = widths.reduce((a, b) => a + b, 0);
  const height = rowH * (p.rows.length + 1) + 4;
  const line = (cells: string[], r: number, bold: boolean) => {
    let x = 0;
    return cells.map((cell, c) => {
      const t = `<text x="${(x + 6).toFixed(1)}" y="${rowH * r + 13}" font-size="11"${bold ? ' font-weight="bold"' : ''}>${esc(cell)}</text>`;
      x += widths[c]!;
      return t;
    }).join('');
  };
  const stripes = p.rows.map((_, r) => (r % 2 ? `<rect x="0" y="${rowH * (r + 1)}" width="${width.toFixed(1)}" height="${rowH}" fill="#f5f5f5"/>` : '')).join('');
  return `<svg width="${width.toFixed(0)}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="monospace">${stripes}${line(p.header, 0, true)}${p.rows.map((r, i) => line(r, i + 1, false)).join('')}</svg>`;
}
