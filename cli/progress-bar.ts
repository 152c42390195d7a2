/** One-line progress bar on a terminal; plain lines (only on change) when output is piped or in CI. */
export function progressBar(label: string): { update(done: number, total: number, note?: string): void; end(): void } {
  const tty = process.stdout.isTTY;
  let last = '';
  return {
    update(done, total, note = '') {
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : 0;
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${note}`;
      if (line === last) return;
      last = line;
      if (tty) process.stdout.write(`\r${line.padEnd(100)}`);
      else console.log(line);
    },
    end() {
      if (tty && last) process.stdout.write('\n');
    },
  };
}
