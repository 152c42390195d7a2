/** The innermost cause's message: Temporal wraps the real reason in WorkflowFailed → ActivityFailure → ApplicationFailure. */
export function failureMessage(err: unknown): string {
  let cur = err as { message?: string; cause?: unknown } | undefined;
  let message = String(cur?.message ?? err);
  while (cur?.cause) {
    cur = cur.cause as { message?: string; cause?: unknown };
    if (cur.message) message = cur.message;
  }
  return message;
}
