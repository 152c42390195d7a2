import fs from 'node:fs';
import path from 'node:path';
import { ArtifactStore } from '../activities/artifact-store';
import { TaskBestStore } from '../activities/task-best';
import { loadTask } from '../activities/tasks/registry';
import { relativeGain } from '../core/evaluation';
import { mlagentHome } from '../core/home';
import type { StepRecord } from '../core/episode-schema';
import type { PipelineResult } from '../workflows/pipeline';
import { barChart, lineChart } from './svg-charts';
import { workflowUiUrl } from './client';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function evaluationSection(e: NonNullable<PipelineResult['evaluate']>): string {
  return `<h2>Held-out evaluation</h2>
<p>${Object.entries(e.agents).map(([n, a]) => `${n}: mean relative gain ${(a.meanRelativeGain * 100).toFixed(2)}% over ${a.tasks} task(s)`).join(' · ')}</p>
<table><tr><th>agent</th><th>task</th><th>K</th><th>avg@K</th><th>best@K</th><th>m_init</th><th>relative gain</th></tr>
${e.scores.map((s) => `<tr><td>${esc(s.agent)}</td><td>${esc(s.task)}</td><td>${s.metrics.length}</td><td>${+s.avgAtK.toFixed(5)}</td><td>${+s.bestAtK.toFixed(5)}</td><td>${+s.mInit.toFixed(5)}</td><td>${(s.relativeGain * 100).toFixed(1)}%</td></tr>`).join('\n')}
</table>`;
}

/** Writes an HTML report (tables + inline SVG plots) of a pipeline run; returns its path. */
export async function writeReport(p: { workflowId: string; result: PipelineResult; namespace?: string }): Promise<string> {
  const store = new ArtifactStore();
  const best = new TaskBestStore();
  const { collect, sft } = p.result;
  const steps = (await store.get(collect.trajectories)).toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as StepRecord & { task: string });

  const tasks = [...new Set(collect.episodes.map((e) => e.task))];
  const rows = tasks.map((name) => {
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
  const curve = (await store.getJson<{ steps: { step: number; loss: number }[] }>(sft.lossCurve)).steps;

  const html = `<!doctype html><html><head><meta charset="utf-8"><title>mlagent report ${esc(p.workflowId)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#111}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:right}th{background:#f5f5f5}td:first-child{text-align:left}</style></head><body>
<h1>mlagent run <code>${esc(p.workflowId)}</code></h1>
<p>Temporal UI: <a href="${workflowUiUrl({ namespace: p.namespace ?? 'mlagent', workflowId: p.workflowId })}">${esc(p.workflowId)}</a> · written ${new Date().toISOString()}</p>
<h2>Expert trajectories</h2>
<p>${collect.episodes.filter((e) => e.ok).length}/${collect.episodes.length} episodes ok · ${collect.counts.states} states in the pool · ${collect.counts.sftPairs} SFT pairs ·
sandbox time ${collect.sandboxSeconds.toFixed(0)} s · metric cache ${collect.metricCache.hits}/${collect.metricCache.evaluations} hits</p>
<table><tr><th>task</th><th>metric</th><th>episodes</th><th>m_init</th><th>best reached</th><th>m_best</th><th>relative gain</th></tr>
${rows.map((r) => `<tr><td>${r.name}</td><td>${r.t.metric.name} ${r.t.metric.direction === 'higher' ? '↑' : '↓'}</td><td>${r.eps.filter((e) => e.ok).length}/${r.eps.length}</td><td>${+r.t.m_init.toFixed(5)}</td><td>${r.top === undefined ? '-' : +r.top.toFixed(5)}</td><td>${+r.effectiveBest.toFixed(5)}</td><td>${r.gain === undefined ? '-' : `${(r.gain * 100).toFixed(1)}%`}</td></tr>`).join('\n')}
</table>
<h3>Relative gain over the starter (best episode per task)</h3>
${barChart({ bars: rows.filter((r) => r.gain !== undefined).map((r) => ({ label: r.name, value: r.gain! * 100 })), yLabel: 'gain %' })}
<h3>Step rewards by outcome</h3>
<table><tr><th>outcome</th><th>steps</th><th>mean reward</th></tr>
${[...rewardsByKind].map(([k, v]) => `<tr><td>${k}</td><td>${v.length}</td><td>${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)}</td></tr>`).join('\n')}
</table>
<h2>Exploration-enriched SFT</h2>
<p>${sft.steps} steps · final loss ${sft.finalLoss.toFixed(4)}${sft.heldOutLoss ? ` · held-out loss ${sft.heldOutLoss.before.toFixed(4)} → ${sft.heldOutLoss.after.toFixed(4)}` : ''} · checkpoint <code>${sft.checkpoint.sha256.slice(0, 16)}</code></p>
${lineChart({ points: curve.map((c) => [c.step, c.loss]), xLabel: 'step', yLabel: 'training loss' })}
${p.result.evaluate ? evaluationSection(p.result.evaluate) : ''}
</body></html>`;
  const file = path.join(mlagentHome(), 'reports', `${p.workflowId}.html`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, html);
  return file;
}
