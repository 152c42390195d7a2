import { z } from 'zod';

/** A named float32 tensor as stored in / read from a safetensors file. */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;
const Entry = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

/** Serialises tensors as safetensors (F32, little-endian, sorted names, 8-byte aligned header). */
export function encodeSafetensors(tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): Buffer {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    const bytes = t.data.length * 4;
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new Error(`tensor ${n}: ${t.data.length} values do not fill shape [${t.shape}]`);
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let pos = 8 + head.length;
  for (const n of names) {
    const d = tensors.get(n)!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, pos);
    pos += d.byteLength;
  }
  return out;
}

/** Parses safetensors (F32, F16, BF16 → float32), rejecting truncated or inconsistent files with a clear error. */
export function decodeSafetensors(buf: Buffer, source = 'safetensors'): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${source}: truncated (${buf.length} bytes, no header)`);
  const headLen = Number(buf.readBigUInt64LE(0));
  if (8 + headLen > buf.length) throw new Error(`${source}: truncated (header claims ${headLen} bytes, file has ${buf.length})`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headLen).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${source}: corrupt header (${(err as Error).message})`);
  }
  const body = buf.subarray(8 + headLen);
  const tensors = new Map<string, NamedTensor>();
  let covered = 0;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const parsed = Entry.safeParse(raw);
    if (!parsed.success) throw new Error(`${source}: corrupt header entry for ${name}`);
    const { dtype, shape, data_offsets: [begin, end] } = parsed.data;
    if (!(dtype in DTYPE_BYTES)) throw new Error(`${source}: tensor ${name} has unsupported dtype ${dtype} (F32, F16, BF16 are read)`);
    const count = shape.reduce((a, b) => a * b, 1);
    const width = DTYPE_BYTES[dtype as keyof typeof DTYPE_BYTES];
    if (end - begin !== count * width) throw new Error(`${source}: tensor ${name} spans ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${count * width}`);
    if (end > body.length) throw new Error(`${source}: truncated (tensor ${name} ends at byte ${end} of a ${body.length}-byte data section)`);
    covered = Math.max(covered, end);
    tensors.set(name, { shape, data: toFloat32(body.subarray(begin, end), dtype as keyof typeof DTYPE_BYTES) });
  }
  if (covered !== body.length) throw new Error(`${source}: ${body.length - covered} trailing bytes after the last tensor (corrupt file)`);
  return { tensors, metadata: (header.__metadata__ as Record<string, string> | undefined) ?? {} };
}

function toFloat32(bytes: Buffer, dtype: keyof typeof DTYPE_BYTES): Float32Array {
  // Copy so the result is aligned and does not alias the file buffer.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  if (dtype === 'F32') return new Float32Array(aligned.buffer);
  const half = new Uint16Array(aligned.buffer);
  const out = new Float32Array(half.length);
  const u32 = new Uint32Array(out.buffer);
  for (let i = 0; i < half.length; i++) u32[i] = dtype === 'BF16' ? half[i] << 16 : f16ToF32Bits(half[i]);
  return out;
}

function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) {
    if (mant === 0) return sign;
    let e = -1;
    let m = mant;
    do { e++; m <<= 1; } while ((m & 0x400) === 0);
    return (sign | ((127 - 15 - e) << 23) | ((m & 0x3ff) << 13)) >>> 0;
  }
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
}
