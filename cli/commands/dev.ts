import { devDown, devStatus, devUp, logFile, type PartStatus } from '../dev-stack';

export const describe = 'local stack: dev up | down | status (Temporal dev server + orchestrator, sandbox, model workers)';

function print(rows: PartStatus[]): void {
  for (const r of rows) {
    console.log(`${r.healthy ? 'ok  ' : 'DOWN'}  ${r.name.padEnd(13)} ${r.pid ? `pid ${String(r.pid).padEnd(8)}` : ''.padEnd(12)} ${r.detail}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub] = argv;
  switch (sub) {
    case 'up': {
      const rows = await devUp();
      print(rows);
      console.log(`\nlogs: ${logFile('<part>')}`);
      return rows.some((r) => r.name === 'temporal' && !r.healthy) ? 1 : 0;
    }
    case 'status': {
      const rows = await devStatus();
      print(rows);
      return rows.every((r) => r.healthy || r.detail === 'not installed in this checkout') ? 0 : 1;
    }
    case 'down':
      console.log(`stopped: ${(await devDown()).join(', ') || 'nothing was running'}`);
      return 0;
    default:
      console.error('usage: mlagent dev up | down | status');
      return 2;
  }
}
