import { z } from 'zod';
import { runCommand } from '../run-command';
import { writeReportFiles } from '../report';
import { fetchRun, reportedRun } from '../run-result';

export const describe = 'the HTML report of a run and each plot as an SVG file: report RUN [--json]';

const Flags = z.object({ json: z.boolean().default(false) });

export async function run(argv: string[]): Promise<number> {
  return runCommand({
    argv,
    flags: Flags,
    usage: 'mlagent report RUN [--json]',
    act: async ({ client, workflowId, flags }) => {
      const info = await fetchRun(client, workflowId);
      const result = await reportedRun(client, info);
      if (Object.keys(result).length === 0) throw new Error(`${workflowId} (${info.type}, ${info.status}) has no finished stage to report on yet`);
      const files = await writeReportFiles({ workflowId, result, namespace: client.options.namespace });
      if (flags.json) console.log(JSON.stringify({ workflowId, type: info.type, status: info.status, stages: Object.keys(result), ...files }, null, 2));
      else console.log(`report: ${files.html}\nplots:\n${files.plots.map((f) => `  ${f}`).join('\n')}`);
      return 0;
    },
  });
}
