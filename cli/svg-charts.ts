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

export function lineChart(p: { points: [number, number][]; xLabel: string; yLabel: string }): string {
  if (p.points.length === 0) return '<p>(no data)</p>';
  const xs = p.points.map(([x]) => x);
  const ys = p.points.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const yMax = y1 === y0 ? y0 + 1 : y1;
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => PAD.top + (1 - (y - y0) / (yMax - y0)) * (H - PAD.top - PAD.bottom);
  const path = p.points.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  return `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${axes({ yMin: y0, yMax, xLabel: p.xLabel, yLabel: p.yLabel })}<path d="${path}" fill="none" stroke="#2563eb" stroke-width="1.5"/></svg>`;
}

export function barChart(p: { bars: { label: string; value: number }[]; yLabel: string }): string {
  if (p.bars.length === 0) return '<p>(no data)</p>';
  const vals = p.bars.map((b) => b.value);
  const yMin = Math.min(0, ...vals);
  const yMax = Math.max(0, ...vals) === yMin ? yMin + 1 : Math.max(0, ...vals);
  const sy = (y: number) => PAD.top + (1 - (y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const slot = (W - PAD.left - PAD.right) / p.bars.length;
  const bars = p.bars.map((b, i) => {
    const x = PAD.left + i * slot + slot * 0.15;
    const [top, bottom] = [sy(Math.max(0, b.value)), sy(Math.min(0, b.value))];
    const colour = b.value >= 0 ? '#16a34a' : '#dc2626';
    return `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${Math.max(1, bottom - top).toFixed(1)}" fill="${colour}"><title>${esc(b.label)}: ${fmt(b.value)}</title></rect>` +
      `<text x="${(x + slot * 0.35).toFixed(1)}" y="${H - PAD.bottom + 12}" font-size="9" text-anchor="middle">${esc(b.label.slice(0, 12))}</text>`;
  });
  return `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${axes({ yMin, yMax, xLabel: '', yLabel: p.yLabel })}${bars.join('')}</svg>`;
}
