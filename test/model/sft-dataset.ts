import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './fixtures';

/** A line of the first SFT dataset format, which datasets may still hold (model/sft-data.ts reads it). */
export interface PromptResponseLine { prompt: string; response: string }

/**
 * A small real SFT dataset from this repository: the state shows a real directory listing and the start of a
 * real file; the expert action inspects or reads the next source file of that directory, in the agent's
 * `Thought / Action / Action Input` format.
 */
export function repoSftDataset(limit = 160): PromptResponseLine[] {
  const out: PromptResponseLine[] = [];
  for (const dir of ['core', 'activities', 'model', 'cli/commands', 'scripts/setup.d', 'workflows', 'test/helpers']) {
    const abs = path.join(REPO, dir);
    if (!fs.existsSync(abs)) continue;
    const files = fs.readdirSync(abs).filter((f) => fs.statSync(path.join(abs, f)).isFile()).sort();
    files.forEach((f, i) => {
      const lines = fs.readFileSync(path.join(abs, f), 'utf8').split('\n');
      const next = files[(i + 1) % files.length];
      const nextLines = fs.readFileSync(path.join(abs, next), 'utf8').split('\n').length;
      const prompt = `Research Problem: improve the project in ${dir}.\nFiles: ${files.join(', ')}\nObservation from ${f}:\n${lines.slice(0, 4).map((l) => l.slice(0, 80)).join('\n')}\n`;
      const response = i % 2 === 0
        ? `Thought: ${f} is understood; ${next} comes next.\nAction: Inspect Script Lines\nAction Input: {"script_name": "${dir}/${next}", "start_line_number": 1, "end_line_number": ${Math.min(nextLines, 40)}}`
        : `Thought: read ${next} in full before editing.\nAction: Read File\nAction Input: {"file_name": "${dir}/${next}"}`;
      out.push({ prompt, response });
    });
  }
  return out.slice(0, limit);
}

export function toJsonl(examples: object[]): string {
  return examples.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
