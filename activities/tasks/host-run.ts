import { execFile } from 'node:child_process';
import fs from 'node:fs';

/** Debian's interpreter: it sees python3-sklearn/-pandas/-statsmodels, unlike a pyenv python3 first on PATH. */
export const HOST_PYTHON = '/usr/bin/python3';
export const RSCRIPT = '/usr/bin/Rscript';

const INSTALL_HINT: Record<string, string> = {
  [HOST_PYTHON]: 'install python3, python3-pandas, python3-sklearn, python3-statsmodels (make setup does: scripts/apt-packages.d/tasks.txt)',
  [RSCRIPT]: 'install r-base-core and the r-cran-* data packages (make setup does: scripts/apt-packages.d/tasks.txt)',
};

/** One thread per BLAS/OpenMP pool, so host runs match sandbox runs and timings stay comparable. */
export const SINGLE_THREAD_ENV = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONHASHSEED: '0' };

export type HostRunResult = { stdout: string; stderr: string; seconds: number };

/** Runs a host program (Rscript or Debian python) and fails with its stderr tail when it exits non-zero. */
export function runHost(p: { cmd: string; args: string[]; cwd: string; timeoutMs: number; env?: Record<string, string> }): Promise<HostRunResult> {
  if (!fs.existsSync(p.cmd)) return Promise.reject(new Error(`${p.cmd} not found: ${INSTALL_HINT[p.cmd] ?? 'install it'}`));
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(
      p.cmd,
      p.args,
      { cwd: p.cwd, timeout: p.timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, ...SINGLE_THREAD_ENV, LANG: 'C.UTF-8', ...p.env } },
      (err, stdout, stderr) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (err) {
          const why = err.killed ? `timed out after ${p.timeoutMs / 1000} s` : `exit ${err.code ?? '?'}`;
          reject(new Error(`${p.cmd} ${p.args.join(' ')} (in ${p.cwd}): ${why}\n${stderr.slice(-3000)}`));
        } else resolve({ stdout, stderr, seconds });
      },
    );
  });
}
