import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PipelineInput } from '../core/pipeline-schema';
import { describeIssues } from '../core/zod-issues';

/** The named configs: `trainPipeline` inputs in temporal-config/examples, pasted as they are into the Temporal UI. */
export const PRESETS = ['smoke', 'demo', 'paper'] as const;
export type Preset = (typeof PRESETS)[number];

export function presetFile(name: Preset): string {
  return path.join(__dirname, '../temporal-config/examples', `${name}.json`);
}

/**
 * A `trainPipeline` input from a JSON or YAML file (YAML is a superset of JSON), validated by the strict schema
 * before anything starts: an unknown key or a bad value is an error naming the file and the field.
 */
export function loadPipelineConfig(file: string): PipelineInput {
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const parsed = PipelineInput.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: ${describeIssues(parsed.error)}`);
  // The raw input goes to the workflow (it applies the defaults itself), so the run's history shows what was asked.
  return raw as PipelineInput;
}
