import fs from 'node:fs/promises';
import path from 'node:path';
import { GGMLQuantizationType, gguf } from '@huggingface/gguf';
import { QuantType, dequantize, encodedBytes, quantTypeOf } from './gguf-quants';

/**
 * A GGUF file read whole: metadata and tensor directory parsed by `@huggingface/gguf` (it reads local files,
 * but only the header: tensor data and dequantization are ours, in gguf-quants.ts). That parser returns a
 * partial header without an error for a file cut short inside it, so every count, offset and size it returns
 * is checked against the actual file here before anything is trusted.
 */

export interface GgufTensor {
  name: string;
  /** numpy order (outermost first): GGUF's ne[] reversed, so a linear weight is [out, in] as in HF files. */
  shape: number[];
  type: QuantType;
  /** absolute byte range in the file */
  begin: number;
  end: number;
}

export interface GgufFile {
  source: string;
  version: number;
  metadata: Record<string, unknown>;
  tensors: Map<string, GgufTensor>;
  bytes: Buffer;
}

const HEADER_KEYS = new Set(['version', 'tensor_count', 'kv_count']);
const DEFAULT_ALIGNMENT = 32;

export async function readGguf(file: string): Promise<GgufFile> {
  const source = path.resolve(file);
  const bytes = await fs.readFile(source);
  if (bytes.length < 24) throw new Error(`${source}: truncated (${bytes.length} bytes, a GGUF header needs at least 24)`);
  if (bytes.toString('latin1', 0, 4) !== 'GGUF') throw new Error(`${source}: not a GGUF file (magic ${JSON.stringify(bytes.toString('latin1', 0, 4))}, expected "GGUF")`);
  const version = bytes.readUInt32LE(4);
  if (version !== 2 && version !== 3) throw new Error(`${source}: GGUF version ${version} is not supported (2 and 3 are)`);
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(source, { allowLocalFile: true });
  } catch (err) {
    throw new Error(`${source}: corrupt GGUF header (${(err as Error).message})`);
  }
  const { metadata: raw, tensorInfos, tensorDataOffset } = parsed;
  const metadata = Object.fromEntries(Object.entries(raw).filter(([k]) => !HEADER_KEYS.has(k)));
  if (BigInt(Object.keys(metadata).length) !== BigInt(raw.kv_count) || BigInt(tensorInfos.length) !== BigInt(raw.tensor_count))
    throw new Error(`${source}: corrupt or truncated header (${Object.keys(metadata).length} of ${raw.kv_count} metadata entries, ${tensorInfos.length} of ${raw.tensor_count} tensors parsed)`);
  const dataStart = Number(tensorDataOffset);
  if (dataStart > bytes.length) throw new Error(`${source}: truncated (tensor data would start at byte ${dataStart}, the file has ${bytes.length})`);
  const alignment = Number(metadata['general.alignment'] ?? DEFAULT_ALIGNMENT);
  const tensors = new Map<string, GgufTensor>();
  for (const info of tensorInfos) {
    const type = quantTypeOf(info.dtype);
    if (!type) throw new Error(`${source}: tensor ${info.name} has ggml type ${GGMLQuantizationType[info.dtype] ?? info.dtype}, which this importer cannot dequantize (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)`);
    if (tensors.has(info.name)) throw new Error(`${source}: tensor ${info.name} appears twice (corrupt header)`);
    const shape = info.shape.map(Number).reverse();
    const count = shape.reduce((a, b) => a * b, 1);
    const size = encodedBytes(type, count);
    if (size === undefined) throw new Error(`${source}: tensor ${info.name} [${shape}] is not a whole number of ${type} blocks (corrupt header)`);
    const begin = dataStart + Number(info.offset);
    if (Number(info.offset) % alignment !== 0) throw new Error(`${source}: tensor ${info.name} starts at unaligned offset ${info.offset} (corrupt header)`);
    if (begin + size > bytes.length) throw new Error(`${source}: truncated or corrupt (tensor ${info.name} ends at byte ${begin + size}, the file has ${bytes.length})`);
    tensors.set(info.name, { name: info.name, shape, type, begin, end: begin + size });
  }
  return { source, version, metadata, tensors, bytes };
}

/** A tensor's values as float32, row-major in `GgufTensor.shape` order (what gguf.quants.dequantize returns). */
export function tensorFloat32(file: GgufFile, name: string): Float32Array {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`${file.source}: no tensor ${name}`);
  return dequantize(file.bytes.subarray(t.begin, t.end), t.type, t.shape.reduce((a, b) => a * b, 1));
}
