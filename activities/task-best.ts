import fs from 'node:fs';
import path from 'node:path';
import { mlagentHome } from '../core/home';

export interface BestRecord {
  m_best: number;
  episodeId: string;
  at: string;
}

/**
 * m_best raised by trajectories that beat a task's reference solution. Kept beside the artifacts
 * (not in tasks/), so the suite stays as shipped and each MLAGENT_HOME learns its own bests.
 */
export class TaskBestStore {
  constructor(readonly root: string = path.join(mlagentHome(), 'task-best')) {}

  get(task: string): BestRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.root, `${task}.json`), 'utf8')) as BestRecord;
    } catch {
      return undefined;
    }
  }

  /** The better of the shipped m_best and any recorded one. */
  effectiveBest(p: { task: string; shipped: number; higherIsBetter: boolean }): number {
    const rec = this.get(p.task);
    if (!rec) return p.shipped;
    return p.higherIsBetter ? Math.max(p.shipped, rec.m_best) : Math.min(p.shipped, rec.m_best);
  }

  /** Records `metric` when it beats the current best; returns whether it did. */
  raise(p: { task: string; metric: number; episodeId: string; shipped: number; higherIsBetter: boolean }): boolean {
    const current = this.effectiveBest(p);
    const beats = p.higherIsBetter ? p.metric > current : p.metric < current;
    if (!beats) return false;
    fs.mkdirSync(this.root, { recursive: true });
    const file = path.join(this.root, `${p.task}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ m_best: p.metric, episodeId: p.episodeId, at: new Date().toISOString() } satisfies BestRecord));
    fs.renameSync(tmp, file);
    return true;
  }
}
