/** Keeps the head and the tail (errors show up at the end of script output) within `max` characters. */
export function truncateObservation(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `\n... [${text.length - max} characters truncated] ...\n`;
  const keep = Math.max(0, max - marker.length);
  const head = Math.ceil(keep / 2);
  return text.slice(0, head) + marker + text.slice(text.length - (keep - head));
}
