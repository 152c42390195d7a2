/**
 * The suite's metrics, written out here (not delegated to the agent's libraries) so scoring is
 * deterministic and independent; test/tasks checks each against scikit-learn on fixed inputs.
 */

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

export function rmse(y: number[], p: number[]): number {
  return Math.sqrt(mean(y.map((v, i) => (v - p[i]) ** 2)));
}

export function mae(y: number[], p: number[]): number {
  return mean(y.map((v, i) => Math.abs(v - p[i])));
}

/** Root mean squared log error; needs non-negative values (checked by the scorer). */
export function rmsle(y: number[], p: number[]): number {
  return rmse(y.map(Math.log1p), p.map(Math.log1p));
}

/** Mean Poisson deviance 2·(y·log(y/μ) − y + μ), with y·log(y/μ) = 0 at y = 0; needs μ > 0. */
export function poissonDeviance(y: number[], mu: number[]): number {
  return mean(y.map((v, i) => 2 * ((v > 0 ? v * Math.log(v / mu[i]) : 0) - v + mu[i])));
}

/** Average ranks (1-based) with ties sharing their mean rank. */
function averageRanks(xs: number[]): number[] {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const ranks = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]] === xs[order[i]]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** ROC AUC as the Mann–Whitney statistic: P(score of a positive > score of a negative), ties count ½. */
export function rocAuc(isPositive: boolean[], score: number[]): number {
  const nPos = isPositive.filter(Boolean).length;
  const nNeg = isPositive.length - nPos;
  if (nPos === 0 || nNeg === 0) throw new Error('AUC needs both classes in the answers');
  const ranks = averageRanks(score);
  let sumPos = 0;
  isPositive.forEach((pos, i) => (sumPos += pos ? ranks[i] : 0));
  return (sumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function accuracy(y: string[], p: string[]): number {
  return mean(y.map((v, i) => (v === p[i] ? 1 : 0)));
}

/** Unweighted mean of per-class F1 over the labels in the answers or predictions (as scikit-learn; 0/0 counts 0). */
export function macroF1(y: string[], p: string[]): number {
  const labels = [...new Set([...y, ...p])];
  return mean(
    labels.map((c) => {
      let tp = 0, fp = 0, fn = 0;
      y.forEach((v, i) => {
        if (p[i] === c && v === c) tp++;
        else if (p[i] === c) fp++;
        else if (v === c) fn++;
      });
      return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    }),
  );
}

/** Cohen's kappa with quadratic weights over the ordered `labels` (every value must be one of them). */
export function quadraticWeightedKappa(y: number[], p: number[], labels: number[]): number {
  const k = labels.length;
  const index = new Map(labels.map((l, i) => [l, i]));
  const observed = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  y.forEach((v, i) => observed[index.get(v)!][index.get(p[i])!]++);
  const rowSum = observed.map((r) => r.reduce((a, b) => a + b, 0));
  const colSum = labels.map((_, j) => observed.reduce((a, r) => a + r[j], 0));
  const n = y.length;
  let num = 0, den = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = (i - j) ** 2;
      num += w * observed[i][j];
      den += (w * rowSum[i] * colSum[j]) / n;
    }
  }
  return den === 0 ? 1 : 1 - num / den;
}

/**
 * Harrell's concordance index: over pairs where one subject died strictly before the other's
 * follow-up time, the share where the earlier death had the higher risk (risk ties count ½).
 */
export function concordanceIndex(time: number[], event: boolean[], risk: number[]): number {
  let comparable = 0, concordant = 0;
  for (let i = 0; i < time.length; i++) {
    if (!event[i]) continue;
    for (let j = 0; j < time.length; j++) {
      if (time[i] >= time[j]) continue;
      comparable++;
      if (risk[i] > risk[j]) concordant++;
      else if (risk[i] === risk[j]) concordant += 0.5;
    }
  }
  if (comparable === 0) throw new Error('C-index needs at least one comparable pair');
  return concordant / comparable;
}
