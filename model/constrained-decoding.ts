import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { ACTION_NAMES, ActionName } from '../core/actions';
import { responseProgram, WorkspaceFacts } from './action-grammar';
import { DEAD, ResponseAutomaton } from './response-automaton';
import { TokenTrie, tokenTrie } from './token-trie';
import type { Tokenizer } from './tokenizer';

export const ConstraintOptions = z.object({
  /** The environment's actions: `Action:` is one of these. */
  actions: z.array(z.enum(ACTION_NAMES as [ActionName, ...ActionName[]])).min(1).default(ACTION_NAMES),
  /** Tokens of free thought before the thought line is forced to end. */
  maxThoughtTokens: z.number().int().nonnegative().default(48),
  /** Tokens of the Action Input JSON before it is forced to close; unbounded (up to maxNewTokens) when absent. */
  maxInputTokens: z.number().int().positive().optional(),
  /** The workspace the action will run in: paths and edits are then grounded in it (`action-grammar.ts`). */
  workspace: WorkspaceFacts.optional(),
}).strict();
export type ConstraintOptions = z.input<typeof ConstraintOptions>;

/** The tokens allowed in one state and the state each of them leads to (aligned arrays). */
export interface Candidates { ids: Int32Array; next: Int32Array }

/**
 * Allowed tokens per automaton state for one tokenizer: a token is allowed iff its bytes are a live path of the
 * automaton from the state. Computed once per state by one walk of the vocabulary trie and kept, so a decode
 * step after the first visit of a state costs a lookup (states: a few hundred; the broad ones, thought and
 * string bodies, hold ~45k SmolLM2 tokens each, 0.4 MB).
 */
class StateMasks {
  private readonly byState = new Map<string, Candidates>();
  private readonly farthest = new WeakMap<Candidates, number>();

  constructor(readonly automaton: ResponseAutomaton, private readonly trie: TokenTrie) {}

  all(state: number): Candidates {
    return this.cached(`${state}`, () => this.walk(state));
  }

  /** Those of `all(state)` that satisfy `keep` (a fixed predicate per `tag`), cached the same way. */
  filtered(state: number, tag: string, keep: (next: number) => boolean): Candidates {
    return this.cached(`${state}:${tag}`, () => subset(this.all(state), keep));
  }

  /** Those of `c` after which acceptance is at most `limit` bytes away (`c` itself when all are). */
  withinDist(c: Candidates, limit: number): Candidates {
    let far = this.farthest.get(c);
    if (far === undefined) this.farthest.set(c, (far = c.next.reduce((m, n) => Math.max(m, this.automaton.dist(n)), 0)));
    return far <= limit ? c : subset(c, (n) => this.automaton.dist(n) <= limit);
  }

  private cached(key: string, make: () => Candidates): Candidates {
    let c = this.byState.get(key);
    if (!c) this.byState.set(key, (c = make()));
    return c;
  }

  private walk(state: number): Candidates {
    const { edgeStart, edgeByte, edgeChild, tokenAt } = this.trie;
    const ids: number[] = [], next: number[] = [];
    const stackNode = [0], stackState = [state];
    while (stackNode.length) {
      const node = stackNode.pop()!, s = stackState.pop()!;
      for (let e = edgeStart[node]; e < edgeStart[node + 1]; e++) {
        const t = this.automaton.next(s, edgeByte[e]);
        if (t === DEAD) continue;
        const child = edgeChild[e];
        if (tokenAt[child] >= 0) (ids.push(tokenAt[child]), next.push(t));
        stackNode.push(child);
        stackState.push(t);
      }
    }
    return { ids: Int32Array.from(ids), next: Int32Array.from(next) };
  }
}

/** The candidates whose next state satisfies `keep`. */
function subset(c: Candidates, keep: (next: number) => boolean): Candidates {
  const at: number[] = [];
  c.next.forEach((n, i) => keep(n) && at.push(i));
  return { ids: Int32Array.from(at, (i) => c.ids[i]), next: Int32Array.from(at, (i) => c.next[i]) };
}

const masksByTokenizer = new WeakMap<Tokenizer, LRUCache<string, StateMasks>>();
/**
 * Programs whose masks a process keeps per tokenizer. The ungrounded one serves every state; a grounded one serves
 * one workspace (an episode's steps until it edits, a PPO batch's repeated states), and the broad states of each
 * hold ~0.4 MB, so only the most recent are kept.
 */
const PROGRAMS_KEPT = 16;

/** The masks for a tokenizer, action set and workspace, shared by every generation in the process (the model worker's). */
function stateMasks(tokenizer: Tokenizer, actions: readonly ActionName[], workspace?: WorkspaceFacts): StateMasks {
  let programs = masksByTokenizer.get(tokenizer);
  if (!programs) masksByTokenizer.set(tokenizer, (programs = new LRUCache({ max: PROGRAMS_KEPT })));
  const key = JSON.stringify([actions, workspace ?? null]);
  let m = programs.get(key);
  if (!m) programs.set(key, (m = new StateMasks(new ResponseAutomaton(responseProgram(actions, workspace)), tokenTrie(tokenizer))));
  return m;
}

/**
 * One response being decoded under the constraint: which tokens may come next, given the automaton state and the
 * budgets. A token is allowed only if the shortest completion after it and the end-of-turn token still fit in
 * `maxNewTokens` (one byte per token at worst), so a response that fits at the start always closes in time.
 * Budgets never leave a dead end: a thought over budget may only take tokens that end the line (the newline byte
 * is always one), and an Action Input over budget only tokens that bring acceptance strictly closer (the next byte
 * of a shortest completion is always one), so it closes within `dist` tokens. Once the object has closed, the
 * end-of-turn token (the tokenizer's EOS, e.g. `<|im_end|>`) is the only one allowed: the turn ends as SFT taught.
 */
export class ConstrainedResponse {
  private readonly masks: StateMasks;
  private readonly opt: z.output<typeof ConstraintOptions>;
  private readonly maxNewTokens: number;
  private state: number;
  private thoughtTokens = 0;
  private inputTokens = 0;
  private generated = 0;
  private readonly eos: number;

  constructor(p: { tokenizer: Tokenizer; options: ConstraintOptions; maxNewTokens: number }) {
    this.opt = ConstraintOptions.parse(p.options);
    this.masks = stateMasks(p.tokenizer, this.opt.actions, this.opt.workspace);
    this.state = this.masks.automaton.start;
    this.maxNewTokens = p.maxNewTokens;
    this.eos = p.tokenizer.eosId;
  }

  /** True once the Action Input object has closed: only the end-of-turn token may follow. */
  get done(): boolean {
    return this.masks.automaton.accepts(this.state);
  }

  /** The tokens allowed now: after the closed object, the end-of-turn token alone (the turn ends there). */
  allowed(): Candidates {
    const a = this.masks.automaton, s = this.state;
    if (a.accepts(s)) return { ids: Int32Array.of(this.eos), next: Int32Array.of(s) };
    const closer = () => this.masks.filtered(s, 'closer', (n) => a.dist(n) < a.dist(s));
    let base: Candidates;
    if (a.pc(s) === a.program.thoughtPc && this.thoughtTokens >= this.opt.maxThoughtTokens)
      base = this.masks.filtered(s, 'end-thought', (n) => a.pc(n) !== a.program.thoughtPc);
    else if (a.phase(s) === 'input' && this.inputTokens >= (this.opt.maxInputTokens ?? Infinity)) base = closer();
    else base = this.masks.all(s);
    // room for this token, the shortest completion after it and the end-of-turn token
    let c = this.masks.withinDist(base, this.maxNewTokens - this.generated - 2);
    // maxNewTokens below the shortest response: close as fast as possible; it stops at the limit, unfinished
    if (c.ids.length === 0) c = closer();
    if (c.ids.length === 0) throw new Error(`constrained decoding: no token of this vocabulary continues the response (automaton state ${s}); a byte-level vocabulary has every single byte`);
    return c;
  }

  /** Takes a given token (replaying a recorded response); throws when the constraint would not have allowed it. */
  takeToken(id: number): void {
    const c = this.allowed();
    const k = c.ids.indexOf(id);
    if (k < 0) throw new Error(`constrained decoding: token ${id} is not allowed here`);
    this.take(c, k);
  }

  /** Takes candidate `k` of the last `allowed()`. */
  take(c: Candidates, k: number): void {
    const phase = this.masks.automaton.phase(this.state);
    if (phase === 'thought') this.thoughtTokens++;
    else if (phase === 'input') this.inputTokens++;
    this.generated++;
    this.state = c.next[k];
  }
}
