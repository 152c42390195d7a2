/**
 * One-line progress bar with elapsed time on a terminal; plain lines, printed only when the count or
 * note changes, when output is piped or in CI.
 */
export function progressBar(label: string): { update(done: number, total: number, note?: string): void; end(): void } {
  const tty = process.stdout.isTTY;
  const started = Date.now();
  let last = '';
  return {
    update(done, total, note = '') {
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : 0;
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${note}`;
      if (tty) process.stdout.write(`\r${`${line} ${((Date.now() - started) / 1000).toFixed(0)}s`.padEnd(100)}`);
      else if (line !== last) console.log(line);
      last = line;
    },
    end() {
      if (tty && last) process.stdout.write('\n');
    },
  };
}
