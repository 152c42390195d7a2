import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { describeIssues } from '../core/zod-issues';

/**
 * Workflow inputs come from users (CLI, Temporal UI JSON): a bad one fails the run at once, non-retryably,
 * with every offending field named, before anything is started.
 */
export function parseWorkflowInput<S extends z.ZodType>(schema: S, raw: unknown, workflow: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error, { root: '(input)' });
  throw ApplicationFailure.nonRetryable(`invalid ${workflow} input: ${issues}`, 'InvalidInput');
}
