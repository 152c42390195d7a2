import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { HOST_PYTHON } from '../../activities/tasks/host-run';
import * as m from '../../activities/tasks/metrics';

/**
 * Fixed inputs (seeded numpy) and the values scikit-learn computes for them; the C-index has no
 * scikit-learn version, so it is checked against a plain pairwise loop written separately in Python.
 */
const REFERENCE = `
import json
import numpy as np
from sklearn import metrics as skm
rng = np.random.RandomState(7)
n = 300
y_reg = rng.gamma(2.0, 50.0, n)
p_reg = np.abs(y_reg + rng.normal(0, 30, n)) + 0.1
y_bin = rng.rand(n) < 0.3
score = np.round(y_bin * 0.4 + rng.rand(n), 1)  # rounded: plenty of ties
labels = np.array(list("abcde"))
y_cls = labels[rng.randint(0, 5, n)]
p_cls = np.where(rng.rand(n) < 0.6, y_cls, labels[rng.randint(0, 4, n)])  # never predicts 'e' by chance alone
y_ord = rng.randint(1, 10, n)
p_ord = np.clip(y_ord + rng.randint(-2, 3, n), 1, 9)
y_cnt = rng.poisson(3.0, n)
mu = np.exp(rng.normal(1.0, 0.5, n))
time = rng.randint(1, 60, n).astype(float)
event = rng.rand(n) < 0.6
risk = np.round(-time / 10 + rng.normal(0, 2, n), 1)
conc = comp = 0.0
for i in range(n):
    for j in range(n):
        if event[i] and time[i] < time[j]:
            comp += 1
            conc += 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0
print(json.dumps({
  "y_reg": y_reg.tolist(), "p_reg": p_reg.tolist(), "y_bin": y_bin.tolist(), "score": score.tolist(),
  "y_cls": y_cls.tolist(), "p_cls": p_cls.tolist(), "y_ord": y_ord.tolist(), "p_ord": p_ord.tolist(),
  "y_cnt": y_cnt.tolist(), "mu": mu.tolist(), "time": time.tolist(), "event": event.tolist(), "risk": risk.tolist(),
  "rmse": float(np.sqrt(skm.mean_squared_error(y_reg, p_reg))),
  "mae": float(skm.mean_absolute_error(y_reg, p_reg)),
  "rmsle": float(np.sqrt(skm.mean_squared_log_error(y_reg, p_reg))),
  "auc": float(skm.roc_auc_score(y_bin, score)),
  "accuracy": float(skm.accuracy_score(y_cls, p_cls)),
  "macro_f1": float(skm.f1_score(y_cls, p_cls, average="macro", zero_division=0)),
  "qwk": float(skm.cohen_kappa_score(y_ord, p_ord, weights="quadratic", labels=list(range(1, 10)))),
  "poisson": float(skm.mean_poisson_deviance(y_cnt, mu)),
  "c_index": conc / comp,
}))
`;

type Ref = Record<string, number> & {
  y_reg: number[]; p_reg: number[]; y_bin: boolean[]; score: number[]; y_cls: string[]; p_cls: string[];
  y_ord: number[]; p_ord: number[]; y_cnt: number[]; mu: number[]; time: number[]; event: boolean[]; risk: number[];
};

function reference(): Ref {
  if (!fs.existsSync(HOST_PYTHON)) throw new Error(`${HOST_PYTHON} missing: install python3-sklearn (make setup)`);
  return JSON.parse(execFileSync(HOST_PYTHON, ['-c', REFERENCE], { encoding: 'utf8' })) as Ref;
}

test('each metric equals scikit-learn (or an independent loop) on fixed inputs', () => {
  const r = reference();
  const close = (got: number, want: number, name: string) => assert.ok(Math.abs(got - want) < 1e-9, `${name}: ${got} != ${want}`);
  close(m.rmse(r.y_reg, r.p_reg), r.rmse, 'rmse');
  close(m.mae(r.y_reg, r.p_reg), r.mae, 'mae');
  close(m.rmsle(r.y_reg, r.p_reg), r.rmsle, 'rmsle');
  close(m.rocAuc(r.y_bin, r.score), r.auc, 'auc');
  close(m.accuracy(r.y_cls, r.p_cls), r.accuracy, 'accuracy');
  close(m.macroF1(r.y_cls, r.p_cls), r.macro_f1, 'macro_f1');
  close(m.quadraticWeightedKappa(r.y_ord, r.p_ord, [1, 2, 3, 4, 5, 6, 7, 8, 9]), r.qwk, 'qwk');
  close(m.poissonDeviance(r.y_cnt, r.mu), r.poisson, 'poisson_deviance');
  close(m.concordanceIndex(r.time, r.event, r.risk), r.c_index, 'c_index');
});

test('metrics reach their ideal values on perfect predictions', () => {
  assert.equal(m.rmsle([1, 10, 100], [1, 10, 100]), 0);
  assert.equal(m.rocAuc([false, true, false, true], [0.1, 0.9, 0.2, 0.8]), 1);
  assert.equal(m.quadraticWeightedKappa([1, 2, 3], [1, 2, 3], [1, 2, 3]), 1);
  assert.equal(m.concordanceIndex([1, 2, 3], [true, true, false], [3, 2, 1]), 1);
});
