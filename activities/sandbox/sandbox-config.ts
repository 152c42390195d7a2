import { z } from 'zod';
import { sandboxImage } from '../../sandbox-images/image-tag';
import { describeIssues } from '../../core/zod-issues';

/** Parses caller input, failing with one readable line (`what: field: problem; …`) instead of zod's JSON. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new Error(`${what}: ${describeIssues(r.error)}`);
}

/** Resource limits of one sandbox container. */
export const SandboxLimits = z.object({
  memoryBytes: z.number().int().min(16 * 1024 * 1024, 'memoryBytes must be at least 16 MiB'),
  nanoCpus: z.number().int().min(10_000_000, 'nanoCpus must be at least 0.01 CPU (1e7)'),
  pidsLimit: z.number().int().min(8, 'pidsLimit must be at least 8'),
  /**
   * Size of /workspace, a tmpfs. Its pages count against memoryBytes (tmpfs is memory, charged to the writer's
   * cgroup), so it must stay below memoryBytes for a full workspace to be ENOSPC rather than an OOM kill.
   */
  workspaceBytes: z.number().int().min(1024 * 1024, 'workspaceBytes must be at least 1 MiB'),
});
export type SandboxLimits = z.infer<typeof SandboxLimits>;

export const DEFAULT_LIMITS: Omit<SandboxLimits, 'workspaceBytes'> = { memoryBytes: 2 * 1024 ** 3, nanoCpus: 1_000_000_000, pidsLimit: 256 };

/** The largest task workspace is under 10 MB; 1 GiB leaves room for models and caches, half the memory at most. */
export function defaultWorkspaceBytes(memoryBytes: number): number {
  return Math.min(1024 ** 3, Math.floor(memoryBytes / 2));
}

export const SandboxCreateParams = z
  .object({
    workspaceTar: z.instanceof(Buffer).optional(),
    workspaceDir: z.string().min(1).optional(),
    image: z.string().min(1).optional(),
    limits: SandboxLimits.partial().optional(),
    name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'container name may use letters, digits, _ . - only').optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .refine((p) => !(p.workspaceTar && p.workspaceDir), 'give workspaceTar or workspaceDir, not both');
export type SandboxCreateParams = z.infer<typeof SandboxCreateParams>;

export const ExecParams = z.object({
  cmd: z.array(z.string()).min(1, 'cmd must name a program'),
  timeoutMs: z.number().int().positive('timeoutMs must be a positive integer'),
  workdir: z.string().min(1).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names must be shell identifiers'), z.string()).optional(),
  /** Output kept per stream; beyond it the start is dropped (tracebacks sit at the end). */
  maxOutputBytes: z.number().int().positive().optional(),
});
export type ExecParams = z.infer<typeof ExecParams>;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  oomKilled: boolean;
  /** A failed command that hit a full writable place (ENOSPC in its output, or one now has under 1 MiB free). */
  diskFull: boolean;
  seconds: number;
}

/** Every sandbox container carries this label (cleanupSandboxes finds stale ones by it). */
export const SANDBOX_LABEL = 'mlagent';
export const WORKSPACE = '/workspace';
export const AGENT_HOME = '/home/agent';

export function defaultImage(): string {
  return process.env.MLAGENT_SANDBOX_IMAGE || sandboxImage();
}

/** Thread pools of numpy/torch/sklearn sized to the CPU limit, so a 1-CPU sandbox does not run 64 threads. */
export function threadEnv(nanoCpus: number): string[] {
  const n = String(Math.max(1, Math.floor(nanoCpus / 1e9)));
  return ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS'].map((k) => `${k}=${n}`);
}

/**
 * The same numbers on every x86-64 host: OpenBLAS, numpy and torch pick SIMD kernels by CPU at run time, and
 * kernels differ in rounding (chicago's starter scores differently under SkylakeX and Haswell kernels). All
 * three are pinned to AVX2-level code, which every x86-64 CPU since 2013 runs. Set on the container, so
 * nothing in the worker's environment reaches it.
 */
export const NUMERICS_ENV: Record<string, string> = {
  OPENBLAS_CORETYPE: 'HASWELL',
  NPY_DISABLE_CPU_FEATURES: 'AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL',
  ATEN_CPU_CAPABILITY: 'avx2',
};

export function sandboxEnv(nanoCpus: number): string[] {
  return [`HOME=${AGENT_HOME}`, ...threadEnv(nanoCpus), ...Object.entries(NUMERICS_ENV).map(([k, v]) => `${k}=${v}`)];
}
