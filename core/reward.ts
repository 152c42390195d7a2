import { z } from 'zod';

/**
 * Per-step reward (DESIGN.md "Reward module", ML-Agent paper §3.3):
 *
 * | action_kind   | reward                                                                     |
 * |---------------|----------------------------------------------------------------------------|
 * | `invalid`     | 0 (unparseable response, unknown action, bad input)                        |
 * | `error`       | 0 (the action ran and failed)                                              |
 * | `non_edit`    | 0.5 (valid list/read/inspect/understand/undo/final answer)                 |
 * | `corner_case` | 0.5 (the run hit a resource limit: time, memory or disk space)             |
 * | `edit`        | σ(α·(m_next − m_prev)), α = 100 / (m_best − m_init)                        |
 *
 * α is signed, so a lower-is-better metric (m_best < m_init) needs no special case: a drop in the
 * metric makes α·Δ positive.
 *
 * Degenerate inputs, decided here so the answer is never NaN (metrics are `null` when absent; the
 * TS API also accepts NaN/±Infinity, which JSON cannot carry):
 * - `edit` with `m_next` absent or non-finite: the edited script produced no metric, so it is a
 *   failed execution → 0, kind `error`.
 * - `m_prev` absent or non-finite (the workspace was broken before the edit): the edit is measured
 *   against the starter, `m_init`.
 * - `m_best == m_init` (or so close that 100/(m_best − m_init) overflows), or either non-finite
 *   (no known improvement scale): if `higher_is_better` is
 *   given, the scale falls back to 1% of |m_init| (at least 1e-6), signed by the direction, so one
 *   percent of the starter's metric plays the role of the whole known gap; without a direction (or
 *   without a finite reference metric) the edit is unscorable and gets the neutral 0.5.
 */

/** A metric value: `null` (or, from TS callers, NaN/±Infinity) means "no usable metric". */
const Metric = z.custom<number>((v) => typeof v === 'number', { message: 'must be a number or null' }).nullable().optional();

export const ActionKind = z.enum(['invalid', 'error', 'non_edit', 'corner_case', 'edit']);
export type ActionKind = z.infer<typeof ActionKind>;

const EDIT_METRICS = ['m_prev', 'm_next', 'm_init', 'm_best'] as const;

export const RewardInput = z
  .object({
    action_kind: ActionKind,
    m_prev: Metric,
    m_next: Metric,
    m_init: Metric,
    m_best: Metric,
    /** Only consulted when m_best == m_init (or either is non-finite): gives the fallback scale its sign. */
    higher_is_better: z.boolean().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    // An edit's metrics may be null (no metric), but a forgotten field is a caller bug, not a degenerate case.
    if (v.action_kind !== 'edit') return;
    for (const key of EDIT_METRICS) {
      if (v[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required for action_kind "edit" (null if there is no metric)` });
    }
  });
export type RewardInput = z.input<typeof RewardInput>;

export interface RewardResult {
  reward: number;
  kind: ActionKind;
}

/** Relative size of the fallback scale when the task gives none (m_best == m_init). */
const FALLBACK_SCALE_FRACTION = 0.01;
const MIN_FALLBACK_SCALE = 1e-6;

export function computeReward(raw: RewardInput): RewardResult {
  const input = RewardInput.parse(raw);
  switch (input.action_kind) {
    case 'invalid':
    case 'error':
      return { reward: 0, kind: input.action_kind };
    case 'non_edit':
    case 'corner_case':
      return { reward: 0.5, kind: input.action_kind };
    case 'edit':
      return editReward(input);
  }
}

function editReward(input: z.infer<typeof RewardInput>): RewardResult {
  const next = finite(input.m_next);
  if (next === undefined) return { reward: 0, kind: 'error' };
  const prev = finite(input.m_prev) ?? finite(input.m_init);
  const alpha = alphaFor(input);
  if (prev === undefined || alpha === undefined) return { reward: 0.5, kind: 'edit' };
  return { reward: sigmoid(alpha * (next - prev)), kind: 'edit' };
}

/** α, or undefined when no finite, non-zero scale can be defined (see module comment). */
function alphaFor(input: z.infer<typeof RewardInput>): number | undefined {
  const init = finite(input.m_init);
  const best = finite(input.m_best);
  const gap = init !== undefined && best !== undefined ? best - init : undefined;
  // α must be finite and non-zero, or α·Δ could be ∞·0 = NaN: a gap that overflows (or whose
  // reciprocal does) counts as no gap.
  if (gap !== undefined && gap !== 0 && Number.isFinite(gap) && Number.isFinite(100 / gap)) return 100 / gap;
  if (input.higher_is_better === undefined || init === undefined) return undefined;
  const scale = Math.max(Math.abs(init) * FALLBACK_SCALE_FRACTION, MIN_FALLBACK_SCALE);
  if (!Number.isFinite(scale)) return undefined;
  return (input.higher_is_better ? 100 : -100) / scale;
}

function finite(v: number | null | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Logistic function that neither overflows nor returns NaN for ±Infinity (α ≠ 0, so α·Δ is never 0·∞). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
