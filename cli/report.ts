import fs from 'node:fs';
import path from 'node:path';
import { ArtifactStore } from '../activities/artifact-store';
import { TaskBestStore } from '../activities/task-best';
import { loadTask } from '../activities/tasks/registry';
import { relativeGain } from '../core/evaluation';
import { mlagentHome } from '../core/home';
import type { StepRecord } from '../core/episode-schema';
import { phaseSeconds, type PpoIterationMetrics } from '../core/ppo-schema';
import type { PipelineResult } from '../workflows/pipeline';
import { barChart, lineChart, tableSvg } from './svg-charts';
import { workflowUiUrl } from './client';

/** What a report shows: a pipeline's stages, or the one stage a standalone run did. */
export type ReportedRun = Partial<PipelineResult>;

/** A report section: its HTML and the plots it draws (name → standalone SVG). */
interface Section {
  html: string;
  plots: Record<string, string>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? String(+v.toFixed(5)) : '-');
const pct = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '-');
const htmlTable = (header: string[], rows: string[][]) =>
  `<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>\n${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}\n</table>`;
/** The plot inline, under its file name (the same SVG is written next to the report). */
const figure = (name: string, svg: string) => `<figure>${svg}<figcaption>${esc(name)}.svg</figcaption></figure>`;

async function collectSection(collect: NonNullable<ReportedRun['collect']>): Promise<Section> {
  const store = new ArtifactStore();
  const best = new TaskBestStore();
  const steps = (await store.get(collect.trajectories)).toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as StepRecord & { task: string });
  const rows = [...new Set(collect.episodes.map((e) => e.task))].map((name) => {
    const t = loadTask(name);
    const higherIsBetter = t.metric.direction === 'higher';
    const eps = collect.episodes.filter((e) => e.task === name);
    const metrics = eps.map((e) => e.bestMetric).filter((m): m is number => typeof m === 'number');
    const top = metrics.length ? (higherIsBetter ? Math.max(...metrics) : Math.min(...metrics)) : undefined;
    const gain = top === undefined ? undefined : relativeGain({ metric: top, mInit: t.m_init, higherIsBetter });
    return { name, t, eps, top, gain, effectiveBest: best.effectiveBest({ task: name, shipped: t.m_best, higherIsBetter }) };
  });
  const rewardsByKind = new Map<string, number[]>();
  for (const s of steps) rewardsByKind.set(s.kind, [...(rewardsByKind.get(s.kind) ?? []), s.reward ?? 0]);
  const gainPlot = barChart({ groups: rows.filter((r) => r.gain !== undefined).map((r) => ({ label: r.name, values: [r.gain! * 100] })), yLabel: 'gain %' });
  return {
    plots: { 'collect-gain': gainPlot },
    html: `<h2>Expert trajectories</h2>
<p>${collect.episodes.filter((e) => e.ok).length}/${collect.episodes.length} episodes ok · ${collect.counts.states} states in the pool · ${collect.counts.sftPairs} SFT pairs ·
sandbox time ${collect.sandboxSeconds.toFixed(0)} s · metric cache ${collect.metricCache.hits}/${collect.metricCache.evaluations} hits</p>
${htmlTable(
  ['task', 'metric', 'episodes', 'm_init', 'best reached', 'm_best', 'relative gain'],
  rows.map((r) => [r.name, `${r.t.metric.name} ${r.t.metric.direction === 'higher' ? '↑' : '↓'}`, `${r.eps.filter((e) => e.ok).length}/${r.eps.length}`, num(r.t.m_init), num(r.top), num(r.effectiveBest), pct(r.gain)]),
)}
<h3>Relative gain over the starter (best episode per task)</h3>
${figure('collect-gain', gainPlot)}
<h3>Step rewards by outcome</h3>
${htmlTable(['outcome', 'steps', 'mean reward'], [...rewardsByKind].map(([k, v]) => [k, String(v.length), (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)]))}`,
  };
}

async function sftSection(sft: NonNullable<ReportedRun['sft']>): Promise<Section> {
  const curve = (await new ArtifactStore().getJson<{ steps: { step: number; loss: number }[] }>(sft.lossCurve)).steps;
  const plot = lineChart({ series: [{ name: 'training loss', points: curve.map((c) => [c.step, c.loss]) }], xLabel: 'step', yLabel: 'training loss' });
  return {
    plots: { 'sft-loss': plot },
    html: `<h2>Exploration-enriched SFT</h2>
<p>${sft.steps} steps · final loss ${sft.finalLoss.toFixed(4)}${sft.heldOutLoss ? ` · held-out loss ${sft.heldOutLoss.before.toFixed(4)} → ${sft.heldOutLoss.after.toFixed(4)}` : ''} · checkpoint <code>${sft.checkpoint.sha256.slice(0, 16)}</code></p>
${figure('sft-loss', plot)}`,
  };
}

async function ppoSection(ppo: NonNullable<ReportedRun['ppo']>): Promise<Section> {
  const log = (await new ArtifactStore().get(ppo.metricsLog)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as PpoIterationMetrics);
  const series = (name: string, pick: (m: PpoIterationMetrics) => number) => ({ name, points: log.map((m): [number, number] => [m.iteration + 1, pick(m)]) });
  const reward = lineChart({ series: [series('mean reward', (m) => m.meanReward)], xLabel: 'iteration', yLabel: 'mean reward' });
  const kl = lineChart({ series: [series('KL old→new', (m) => m.approxKl), series('KL to reference', (m) => m.refKl)], xLabel: 'iteration', yLabel: 'KL per token' });
  return {
    plots: { 'ppo-reward': reward, 'ppo-kl': kl },
    html: `<h2>Step-wise PPO</h2>
<p>${ppo.iterations} iterations${ppo.stopped ? ' (stopped)' : ''} · policy <code>${ppo.policy.sha256.slice(0, 16)}</code></p>
${figure('ppo-reward', reward)}
${figure('ppo-kl', kl)}
${htmlTable(
  ['iteration', 'mean reward', 'outcomes', 'left out', 'KL old→new', 'KL to ref', 'clip frac', 'value loss', 'entropy', 's generate / execute / update'],
  log.map((m) => [String(m.iteration + 1), m.meanReward.toFixed(3), Object.entries(m.kinds).map(([k, n]) => `${k} ${n}`).join(', '), String(m.leftOut), m.approxKl.toFixed(4), m.refKl.toFixed(4), m.clipFraction.toFixed(2), m.valueLoss.toFixed(4), m.entropy.toFixed(2), phaseSeconds(m)]),
)}`,
  };
}

/** Columns of the evaluation table; a column shows only when some row has its field (older results lack some). */
const EVAL_COLUMNS: { header: string; key: string; show: (v: unknown) => string }[] = [
  { header: 'agent', key: 'agent', show: String },
  { header: 'task', key: 'task', show: String },
  { header: 'K', key: 'k', show: String },
  { header: 'avg@K', key: 'avgAtK', show: num },
  { header: 'best@K', key: 'bestAtK', show: num },
  { header: 'm_init', key: 'mInit', show: num },
  { header: 'Δ_r', key: 'relativeGain', show: pct },
  { header: 'valid actions', key: 'validActionRate', show: pct },
  { header: 'actions without error', key: 'actionsWithoutErrorRate', show: pct },
  { header: 'valid submissions', key: 'validSubmissionRate', show: pct },
  { header: 'failed', key: 'failed', show: String },
];

function evaluateSection(e: NonNullable<ReportedRun['evaluate']>): Section {
  const scores = e.scores as unknown as Record<string, unknown>[];
  const columns = EVAL_COLUMNS.filter((c) => scores.some((s) => c.key in s));
  const header = columns.map((c) => c.header);
  const rows = scores.map((s) => columns.map((c) => (c.key in s ? c.show(s[c.key]) : '-')));
  const agents = [...new Set(scores.map((s) => String(s.agent)))];
  const tasks = [...new Set(scores.map((s) => String(s.task)))];
  const gainOf = (agent: string, task: string) => {
    const g = scores.find((s) => s.agent === agent && s.task === task)?.relativeGain;
    return typeof g === 'number' ? g * 100 : null;
  };
  const table = tableSvg({ header, rows });
  const gains = barChart({ groups: tasks.map((t) => ({ label: t, values: agents.map((a) => gainOf(a, t)) })), series: agents, yLabel: 'Δ_r %' });
  const errors = scores.flatMap((s) => (Array.isArray(s.errors) ? (s.errors as string[]) : []));
  return {
    plots: { 'evaluation-table': table, 'evaluation-gain': gains },
    html: `<h2>Held-out evaluation</h2>
<p>${Object.entries(e.agents).map(([n, a]) => `${esc(n)}: mean Δ_r ${pct(a.meanRelativeGain)} over ${a.tasks} task(s)`).join(' · ')}</p>
${htmlTable(header, rows)}
${errors.length ? `<h3>Failed episodes</h3><ul>${errors.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}
<h3>Δ_r over the starter per task and agent</h3>
${figure('evaluation-gain', gains)}`,
  };
}

/**
 * Writes the HTML report of a run (tables and inline SVG plots of each stage it has) and each plot as its own SVG
 * file in `MLAGENT_HOME/reports/<run>/`. Returns the paths.
 */
export async function writeReportFiles(p: { workflowId: string; result: ReportedRun; namespace?: string }): Promise<{ html: string; plots: string[] }> {
  const { collect, sft, ppo, evaluate } = p.result;
  const sections = [
    ...(collect ? [await collectSection(collect)] : []),
    ...(sft ? [await sftSection(sft)] : []),
    ...(ppo ? [await ppoSection(ppo)] : []),
    ...(evaluate ? [evaluateSection(evaluate)] : []),
  ];
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>mlagent report ${esc(p.workflowId)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#111}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:right}th{background:#f5f5f5}td:first-child{text-align:left}figure{margin:1em 0}figcaption{font-size:11px;color:#666}</style></head><body>
<h1>mlagent run <code>${esc(p.workflowId)}</code></h1>
<p>Temporal UI: <a href="${workflowUiUrl({ namespace: p.namespace ?? 'mlagent', workflowId: p.workflowId })}">${esc(p.workflowId)}</a> · written ${new Date().toISOString()}</p>
${sections.map((s) => s.html).join('\n')}
</body></html>`;
  const dir = path.join(mlagentHome(), 'reports', p.workflowId.replace(/[^A-Za-z0-9_.-]/g, '_'));
  fs.mkdirSync(dir, { recursive: true });
  const file = `${dir}.html`;
  fs.writeFileSync(file, html);
  const plots = sections.flatMap((s) => Object.entries(s.plots)).filter(([, svg]) => svg.startsWith('<svg')).map(([name, svg]) => {
    const plot = path.join(dir, `${name}.svg`);
    fs.writeFileSync(plot, `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`);
    return plot;
  });
  return { html: file, plots };
}

/** The HTML report's path (train and demo print it). */
export async function writeReport(p: { workflowId: string; result: ReportedRun; namespace?: string }): Promise<string> {
  return (await writeReportFiles(p)).html;
}
