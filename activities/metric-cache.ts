import fs from 'node:fs/promises';
import path from 'node:path';
import { mlagentHome } from '../core/home';

export interface CachedMetric {
  metric: number | null;
  error?: string;
}

/**
 * Scores keyed by (task, workspace content hash): an identical workspace is never scored twice,
 * across episodes and runs. One small JSON file per key, written atomically.
 */
export class MetricCache {
  constructor(readonly root: string = path.join(mlagentHome(), 'metric-cache')) {}

  private file(task: string, hash: string): string {
    return path.join(this.root, task, `${hash}.json`);
  }

  async get(task: string, hash: string): Promise<CachedMetric | undefined> {
    const text = await fs.readFile(this.file(task, hash), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as CachedMetric);
  }

  async set(task: string, hash: string, value: CachedMetric): Promise<void> {
    const file = this.file(task, hash);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(value));
    await fs.rename(tmp, file);
  }
}
