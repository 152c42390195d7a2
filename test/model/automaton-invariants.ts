import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEAD, type ResponseAutomaton } from '../../model/response-automaton';

/**
 * On random walks of the automaton, `dist` is the exact shortest completion: positive until acceptance, some byte
 * always brings it one closer and none more, and following shortest steps from anywhere reaches acceptance.
 */
export function assertDistIsShortestCompletion(automaton: ResponseAutomaton, p: { numRuns: number; seed: number }): void {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 400 }), (choices) => {
      let s = automaton.start;
      for (const c of choices) {
        if (automaton.accepts(s)) break;
        const d = automaton.dist(s);
        const live = Array.from({ length: 256 }, (_, b) => automaton.next(s, b)).filter((t) => t !== DEAD);
        assert.ok(d > 0 && Number.isFinite(d));
        assert.ok(live.some((t) => automaton.dist(t) === d - 1), `state ${s}`);
        assert.ok(live.every((t) => automaton.dist(t) >= d - 1), 'one byte shortens by at most one');
        s = live[c % live.length];
      }
      for (let guard = 0; !automaton.accepts(s) && guard < 400; guard++) {
        const b = Array.from({ length: 256 }, (_, x) => x).find((x) => { const t = automaton.next(s, x); return t !== DEAD && automaton.dist(t) === automaton.dist(s) - 1; })!;
        s = automaton.next(s, b);
      }
      assert.ok(automaton.accepts(s));
    }),
    p,
  );
}
