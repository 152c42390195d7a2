import * as tf from '@tensorflow/tfjs';
import { backendLine, mallocName } from './backend-log';

/** Backends best first; `MLAGENT_TF_BACKEND` forces one. */
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const registered = new Map<BackendName, string | undefined>();

/**
 * The native backend's module: tfjs-node-gpu on every host (one build, `scripts/setup.d/50-tfjs.sh`), which uses a
 * GPU when TensorFlow finds one and the CPU otherwise. Loading it registers the `tensorflow` backend.
 */
export function nativeTf(): typeof import('@tensorflow/tfjs-node-gpu') {
  // TensorFlow's oneDNN kernels allocate from their own BFC pool, which keeps every buffer it ever held; through
  // malloc (tcmalloc, cli/bin.js) freed buffers serve any later allocation: two 4 × 2048-token SFT steps of the
  // 135M model peaked at 5.9 GB with the pool, 4.7 GB without, at the same speed. Read when the library loads.
  process.env.TF_ONEDNN_USE_SYSTEM_ALLOCATOR ??= '1';
  return require('@tensorflow/tfjs-node-gpu');
}

/** Where the active backend computes: 'GPU' only for the native backend on a device TensorFlow found. */
export function activeDevice(): 'GPU' | 'CPU' {
  return activeBackend() === 'tensorflow' && (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice ? 'GPU' : 'CPU';
}

/** Registers a backend's implementation; returns why it is unavailable, or undefined when it is usable. */
function register(name: BackendName): string | undefined {
  if (registered.has(name)) return registered.get(name);
  let why: string | undefined;
  try {
    if (name === 'tensorflow') nativeTf();
    if (name === 'wasm') require('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    why = name === 'tensorflow'
      ? `tfjs-node-gpu addon not built (run \`make setup\`, which links it against the PyPI TensorFlow wheel): ${(err as Error).message.split('\n')[0]}`
      : (err as Error).message;
  }
  registered.set(name, why);
  return why;
}

/** Backends that initialise on this host, best first. */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = [];
  for (const b of BACKENDS) if (register(b) === undefined && (await tf.setBackend(b))) out.push(b);
  return out;
}

/** Activates `name`, failing with the reason when it cannot be used. */
export async function useBackend(name: BackendName): Promise<void> {
  const why = register(name);
  if (why !== undefined) throw new Error(`tfjs backend '${name}' unavailable: ${why}`);
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
  // skips tfjs' per-op correctness checks: decoding one token is ~200 small ops, so their cost shows
  tf.enableProdMode();
}

let chosen: Promise<BackendName> | undefined;

/** Picks the best usable backend once per process (or the forced one) and logs it. */
export function initBackend(log: (msg: string) => void = (m) => console.log(m)): Promise<BackendName> {
  chosen ??= (async () => {
    const forced = process.env.MLAGENT_TF_BACKEND;
    let name: BackendName;
    if (forced) {
      if (!(BACKENDS as readonly string[]).includes(forced)) throw new Error(`MLAGENT_TF_BACKEND=${forced} is not one of ${BACKENDS.join(', ')}`);
      name = forced as BackendName;
    } else {
      const reasons: string[] = [];
      let found: BackendName | undefined;
      for (const b of BACKENDS) {
        const why = register(b);
        if (why === undefined && (await tf.setBackend(b))) { found = b; break; }
        reasons.push(`${b}: ${why ?? 'failed to initialise'}`);
      }
      if (!found) throw new Error(`no tfjs backend initialised (${reasons.join('; ')})`);
      if (reasons.length) log(`[model] skipped backends: ${reasons.join('; ')}`);
      name = found;
    }
    await useBackend(name);
    log(backendLine(name, activeDevice(), mallocName()));
    return name;
  })();
  return chosen;
}

export function activeBackend(): BackendName {
  return tf.getBackend() as BackendName;
}
