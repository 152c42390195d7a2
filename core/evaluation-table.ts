import type { AgentSummary, TaskScore } from './evaluation';

/**
 * The evaluation table as cells, so the workflow's details (markdown), the CLI (plain text) and the HTML report
 * show the same numbers. Pure: the workflow bundle imports it.
 */

export interface EvaluationTable {
  scores: TaskScore[];
  agents: Record<string, AgentSummary>;
}

export const EVALUATION_COLUMNS = ['agent', 'task', 'K', 'avg@K', 'best@K', 'm_init', 'Δ_r', 'valid actions', 'actions without error', 'valid submissions', 'failed'] as const;

const num = (v: number | null) => (v === null ? 'error' : String(+v.toFixed(5)));
const pct = (v: number | null, digits = 1) => (v === null ? '-' : `${(v * 100).toFixed(digits)}%`);

export function evaluationRows(scores: TaskScore[]): string[][] {
  // `?? null`: rows recorded before episodes counted actions without error show '-'.
  return scores.map((s) =>
    s.source === 'starter'
      ? [s.agent, s.task, '-', num(s.avgAtK), num(s.bestAtK), num(s.mInit), '0% (by definition)', '-', '-', '-', '-']
      : [s.agent, s.task, String(s.k), num(s.avgAtK), num(s.bestAtK), num(s.mInit), pct(s.relativeGain), pct(s.validActionRate, 0), pct(s.actionsWithoutErrorRate ?? null, 0), pct(s.validSubmissionRate, 0), `${s.failed}/${s.k}`],
  );
}

/** Per agent: mean Δ_r over its scored tasks and its failed episodes; then every failed episode's error. */
export function evaluationNotes(t: EvaluationTable): string[] {
  const agents = Object.entries(t.agents).map(
    ([name, a]) => `${name}: mean Δ_r ${pct(a.meanRelativeGain, 2)} over ${a.tasks} task(s)${a.failedEpisodes ? `, ${a.failedEpisodes} episode(s) failed` : ''}`,
  );
  // `?? []`: evaluation results recorded before rows had errors still replay in pipeline histories.
  const errors = t.scores.flatMap((s) => (s.errors ?? []).map((e) => `error (${s.agent} on ${s.task}): ${e}`));
  return [...agents, ...errors];
}

export function evaluationMarkdown(t: EvaluationTable): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    line(EVALUATION_COLUMNS),
    line(EVALUATION_COLUMNS.map(() => '---')),
    ...evaluationRows(t.scores).map(line),
    '',
    ...evaluationNotes(t).map((n) => `- ${n}`),
  ].join('\n');
}

export function evaluationText(t: EvaluationTable): string {
  const rows = [[...EVALUATION_COLUMNS], ...evaluationRows(t.scores)];
  const widths = EVALUATION_COLUMNS.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return [...rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()), '', ...evaluationNotes(t)].join('\n');
}
