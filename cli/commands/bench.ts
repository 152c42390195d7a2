import fs from 'node:fs';
import path from 'node:path';

export const describe = 'benchmarks: bench <name> [options] (each prints ratios against a reference measured in the same run)';

/** Each benchmark is bench/<name>.ts exporting `run(argv)`. */
export async function run(argv: string[]): Promise<number | void> {
  const [name, ...rest] = argv;
  const names = fs.readdirSync(path.join(__dirname, '../../bench')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  if (!name || !names.includes(name)) {
    console.error(`usage: mlagent bench <${names.join('|')}> [options]`);
    return 2;
  }
  const mod = (await import(`../../bench/${name}`)) as { run(argv: string[]): Promise<number | void> };
  return mod.run(rest);
}
