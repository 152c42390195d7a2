import { Instr, MAX_LINE_DIGITS, Phase, ResponseProgram } from './action-grammar';

/** State of the program: instruction, progress inside it, and the saved start line (Inspect Script Lines). */
interface State { pc: number; sub: string; reg: string }

export const DEAD = -1;
const UNKNOWN = -2;

const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
/**
 * Free text is printable ASCII: every byte is then one character of the decoded text (no partial UTF-8, no
 * U+FFFD), and the automaton needs no multi-byte states. Non-ASCII can still be written in JSON as \uXXXX.
 */
const isPrintable = (b: number) => b >= 0x20 && b <= 0x7e;
const ESCAPES = new Set(Array.from('"\\/bfnrt', (c) => c.charCodeAt(0)));
const QUOTE = 0x22, BACKSLASH = 0x5c, NEWLINE = 0x0a, SPACE = 0x20;

/**
 * The response program as a deterministic byte automaton with states interned to small integers and
 * transitions memoised per state (built lazily: only reachable states exist). Every live state can still reach
 * acceptance, so constrained decoding never paints itself into a corner; `dist` is the exact number of bytes
 * the shortest way there takes, which lets a budget force the response to close.
 */
export class ResponseAutomaton {
  private readonly states: State[] = [];
  private readonly ids = new Map<string, number>();
  private readonly rows: Int32Array[] = [];
  private readonly dists: number[] = [];
  private tails: Float64Array[] = [];
  readonly start: number;

  constructor(readonly program: ResponseProgram) {
    this.start = this.intern({ pc: 0, sub: '', reg: '' });
    this.entryDists();
  }

  /** State after one more byte, or DEAD. */
  next(id: number, byte: number): number {
    let row = this.rows[id];
    if (!row) this.rows[id] = row = new Int32Array(256).fill(UNKNOWN);
    if (row[byte] === UNKNOWN) {
      const s = this.stepState(this.states[id], byte);
      row[byte] = s ? this.intern(s) : DEAD;
    }
    return row[byte];
  }

  accepts(id: number): boolean {
    return this.instr(this.states[id].pc).kind === 'accept';
  }

  pc(id: number): number {
    return this.states[id].pc;
  }

  phase(id: number): Phase {
    return this.program.phase[this.states[id].pc];
  }

  /** Fewest bytes from this state to acceptance. */
  dist(id: number): number {
    if (this.dists[id] === undefined) this.dists[id] = this.distOf(this.states[id]);
    return this.dists[id];
  }

  private instr(pc: number): Instr {
    return this.program.instrs[pc];
  }

  private intern(s: State): number {
    const key = `${s.pc}\u0000${s.sub}\u0000${s.reg}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.states.length;
      this.states.push(s);
      this.ids.set(key, id);
    }
    return id;
  }

  private enter(pc: number, reg: string): State {
    return { pc, sub: '', reg };
  }

  private stepState(s: State, b: number): State | undefined {
    const { pc, sub, reg } = s;
    const ins = this.instr(pc);
    switch (ins.kind) {
      case 'lit': {
        const k = sub === '' ? 0 : Number(sub);
        if (ins.text.charCodeAt(k) !== b) return undefined;
        return k + 1 === ins.text.length ? this.enter(pc + 1, reg) : { pc, sub: String(k + 1), reg };
      }
      case 'thought':
        if (b === NEWLINE) return this.enter(pc + 1, reg);
        return isPrintable(b) || b === 0x09 ? s : undefined;
      case 'branch': {
        const p = sub + String.fromCharCode(b);
        const alive = ins.alts.filter((a) => a.text.startsWith(p));
        if (alive.length === 0) return undefined;
        const hit = alive.find((a) => a.text === p);
        return hit ? this.enter(hit.target, reg) : { pc, sub: p, reg };
      }
      case 'space':
        return b === SPACE ? this.enter(pc + 1, reg) : this.stepState(this.enter(pc + 1, reg), b);
      case 'str':
        return this.stepString(s, ins.minLength, b);
      case 'int': {
        if (isDigit(b)) {
          const d = sub + String.fromCharCode(b);
          if (d === '0' || d.length > MAX_LINE_DIGITS) return undefined;
          // only digits after which a large enough number can still be written
          if (ins.role === 'atLeastSaved' && Number(d.padEnd(MAX_LINE_DIGITS, '9')) < Number(reg)) return undefined;
          return { pc, sub: d, reg };
        }
        if (sub === '' || (ins.role === 'atLeastSaved' && Number(sub) < Number(reg))) return undefined;
        return this.stepState(this.enter(pc + 1, ins.role === 'save' ? sub : ''), b);
      }
      case 'accept':
        return undefined;
    }
  }

  /** sub: '' before the opening quote, 'f' first character (of a non-empty string), 'b' body, 'e' after '\', 'uN' N hex digits to go. */
  private stepString(s: State, minLength: number, b: number): State | undefined {
    const { pc, sub, reg } = s;
    const at = (next: string): State => ({ pc, sub: next, reg });
    if (sub === '') return b === QUOTE ? at(minLength > 0 ? 'f' : 'b') : undefined;
    if (sub === 'f' || sub === 'b') {
      if (b === QUOTE) return sub === 'b' ? this.enter(pc + 1, reg) : undefined;
      if (b === BACKSLASH) return at('e');
      return isPrintable(b) ? at('b') : undefined;
    }
    if (sub === 'e') return ESCAPES.has(b) ? at('b') : b === 0x75 ? at('u4') : undefined;
    const left = Number(sub.slice(1));
    return isHex(b) ? at(left === 1 ? 'b' : `u${left - 1}`) : undefined;
  }

  private distOf(s: State): number {
    const { pc, sub, reg } = s;
    const ins = this.instr(pc);
    const rest = (r = reg) => this.tail(pc + 1, r);
    switch (ins.kind) {
      case 'lit':
        return ins.text.length - (sub === '' ? 0 : Number(sub)) + rest();
      case 'thought':
        return 1 + rest();
      case 'branch':
        return Math.min(...ins.alts.filter((a) => a.text.startsWith(sub)).map((a) => a.text.length - sub.length + this.tail(a.target, reg)));
      case 'space':
        return rest();
      case 'str': {
        const own = sub === '' ? 2 + ins.minLength : sub === 'f' || sub === 'e' ? 2 : sub === 'b' ? 1 : Number(sub.slice(1)) + 1;
        return own + rest();
      }
      case 'int':
        if (ins.role === 'save') return sub === '' ? 1 + rest('1') : rest(sub);
        return digitsToGo(sub, reg) + rest('');
      case 'accept':
        return 0;
    }
  }

  /** dist of an instruction's entry state (`tails`, filled by the constructor). */
  private tail(pc: number, reg: string): number {
    return this.tails[pc][reg.length];
  }

  /**
   * Entry dists of every instruction, relaxed to a fixed point (the edits loop makes the program cyclic). Only
   * the end line's length depends on the register, through its digit count, so one entry per count.
   */
  private entryDists(): void {
    const n = this.program.instrs.length;
    this.tails = Array.from({ length: n + 1 }, () => new Float64Array(MAX_LINE_DIGITS + 1).fill(Infinity));
    for (let changed = true; changed; ) {
      changed = false;
      for (let pc = n - 1; pc >= 0; pc--)
        for (let r = 0; r <= MAX_LINE_DIGITS; r++) {
          const d = this.distOf(this.enter(pc, '9'.repeat(r)));
          if (d < this.tails[pc][r]) (this.tails[pc][r] = d), (changed = true);
        }
    }
  }
}

/** Digits still needed after `d` for a number ≥ `reg` (of at most MAX_LINE_DIGITS digits). */
function digitsToGo(d: string, reg: string): number {
  if (d === '') return reg.length;
  for (let k = d.length; k <= MAX_LINE_DIGITS; k++) if (Number(d.padEnd(k, '9')) >= Number(reg)) return k - d.length;
  throw new Error(`no line number ≥ ${reg} starts with ${d}`);
}
