/**
 * ggml tensor encodings → float32, in the arithmetic order of the gguf Python package's numpy dequantizers
 * (`gguf.quants`): every intermediate is rounded to float32 (Float32Array stores, Math.fround) exactly where numpy
 * rounds, so results are bit-identical to the reference, not just close.
 *
 * Block layouts (ggml-common.h): legacy blocks hold 32 values, k-quant super-blocks 256; scales are float16.
 */

export const QUANT_TYPES = {
  F32: { id: 0, blockValues: 1, blockBytes: 4 },
  F16: { id: 1, blockValues: 1, blockBytes: 2 },
  Q4_0: { id: 2, blockValues: 32, blockBytes: 18 },
  Q4_1: { id: 3, blockValues: 32, blockBytes: 20 },
  Q5_0: { id: 6, blockValues: 32, blockBytes: 22 },
  Q5_1: { id: 7, blockValues: 32, blockBytes: 24 },
  Q8_0: { id: 8, blockValues: 32, blockBytes: 34 },
  Q4_K: { id: 12, blockValues: 256, blockBytes: 144 },
  Q5_K: { id: 13, blockValues: 256, blockBytes: 176 },
  Q6_K: { id: 14, blockValues: 256, blockBytes: 210 },
  BF16: { id: 30, blockValues: 1, blockBytes: 2 },
} as const;
export type QuantType = keyof typeof QUANT_TYPES;

const BY_ID = new Map(Object.entries(QUANT_TYPES).map(([name, t]) => [t.id as number, name as QuantType]));

/** The name of a ggml type id, or undefined when this reader cannot dequantize it. */
export function quantTypeOf(id: number): QuantType | undefined {
  return BY_ID.get(id);
}

/** Bytes that `count` values of `type` occupy; undefined when `count` is not a whole number of blocks. */
export function encodedBytes(type: QuantType, count: number): number | undefined {
  const t = QUANT_TYPES[type];
  return count % t.blockValues === 0 ? (count / t.blockValues) * t.blockBytes : undefined;
}

/** IEEE half → float (exact: every half is a float). */
export function f16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f, mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

type Kernel = (src: Uint8Array, at: number, out: Float32Array, o: number) => void;

const half = (src: Uint8Array, at: number) => f16(src[at] | (src[at + 1] << 8));
const u32 = (src: Uint8Array, at: number) => (src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24)) >>> 0;
const i8 = (b: number) => (b << 24) >> 24;
const f = Math.fround;

/** Legacy 4-bit: value j < 16 is the low nibble of byte j, value j ≥ 16 the high nibble of byte j − 16. */
const nibble = (src: Uint8Array, qs: number, j: number) => (j < 16 ? src[qs + j] & 0xf : src[qs + j - 16] >> 4);

/** The 6-bit scale and min of sub-block j of a Q4_K/Q5_K super-block (12 packed bytes at `sc`). */
function scaleMin(src: Uint8Array, sc: number, j: number): [number, number] {
  if (j < 4) return [src[sc + j] & 63, src[sc + j + 4] & 63];
  return [(src[sc + j + 4] & 0xf) | ((src[sc + j - 4] >> 6) << 4), (src[sc + j + 4] >> 4) | ((src[sc + j] >> 6) << 4)];
}

const KERNELS: Record<Exclude<QuantType, 'F32' | 'F16' | 'BF16'>, Kernel> = {
  Q4_0(src, at, out, o) {
    const d = half(src, at);
    for (let j = 0; j < 32; j++) out[o + j] = d * (nibble(src, at + 2, j) - 8);
  },
  Q4_1(src, at, out, o) {
    const d = half(src, at), m = half(src, at + 2);
    for (let j = 0; j < 32; j++) out[o + j] = f(d * nibble(src, at + 4, j)) + m;
  },
  Q5_0(src, at, out, o) {
    const d = half(src, at), qh = u32(src, at + 2);
    for (let j = 0; j < 32; j++) out[o + j] = d * ((nibble(src, at + 6, j) | (((qh >>> j) & 1) << 4)) - 16);
  },
  Q5_1(src, at, out, o) {
    const d = half(src, at), m = half(src, at + 2), qh = u32(src, at + 4);
    for (let j = 0; j < 32; j++) out[o + j] = f(d * (nibble(src, at + 8, j) | (((qh >>> j) & 1) << 4))) + m;
  },
  Q8_0(src, at, out, o) {
    const d = half(src, at);
    for (let j = 0; j < 32; j++) out[o + j] = d * i8(src[at + 2 + j]);
  },
  // d, dmin, 12 scale bytes, 128 bytes of nibbles: sub-block s uses nibble s % 2 of bytes 32·⌊s/2⌋ …
  Q4_K(src, at, out, o) {
    const d = half(src, at), dmin = half(src, at + 2), qs = at + 16;
    for (let s = 0; s < 8; s++) {
      const [sc, mn] = scaleMin(src, at + 4, s);
      const ds = f(d * sc), dm = f(dmin * mn), chunk = qs + 32 * (s >> 1), shift = 4 * (s & 1);
      for (let l = 0; l < 32; l++) out[o + 32 * s + l] = f(ds * ((src[chunk + l] >> shift) & 0xf)) - dm;
    }
  },
  // as Q4_K, plus a fifth bit: bit s of high byte l for value l of sub-block s
  Q5_K(src, at, out, o) {
    const d = half(src, at), dmin = half(src, at + 2), qh = at + 16, qs = at + 48;
    for (let s = 0; s < 8; s++) {
      const [sc, mn] = scaleMin(src, at + 4, s);
      const ds = f(d * sc), dm = f(dmin * mn), chunk = qs + 32 * (s >> 1), shift = 4 * (s & 1);
      for (let l = 0; l < 32; l++) out[o + 32 * s + l] = f(ds * (((src[chunk + l] >> shift) & 0xf) | (((src[qh + l] >> s) & 1) << 4))) - dm;
    }
  },
  // 128 low-nibble bytes, 64 bytes of 2-bit highs, 16 int8 scales (one per 16 values), d last
  Q6_K(src, at, out, o) {
    const ql = at, qh = at + 128, scales = at + 192, d = half(src, at + 208);
    for (let e = 0; e < 256; e++) {
      const h = e >> 7;
      const lo = (src[ql + 64 * h + (e & 63)] >> (4 * ((e >> 6) & 1))) & 0xf;
      const hi = (src[qh + 32 * h + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
      out[o + e] = f(d * i8(src[scales + (e >> 4)])) * ((lo | (hi << 4)) - 32);
    }
  },
};

/** Decodes `count` values of `type` from `src` (exactly `encodedBytes(type, count)` bytes). */
export function dequantize(src: Uint8Array, type: QuantType, count: number): Float32Array {
  const need = encodedBytes(type, count);
  if (need === undefined) throw new Error(`${count} values are not a whole number of ${type} blocks (${QUANT_TYPES[type].blockValues} values each)`);
  if (src.length !== need) throw new Error(`${type}: ${count} values need ${need} bytes, got ${src.length}`);
  const out = new Float32Array(count);
  if (type === 'F32') {
    new Uint8Array(out.buffer).set(src);
    return out;
  }
  if (type === 'F16' || type === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) {
      const h = src[2 * i] | (src[2 * i + 1] << 8);
      if (type === 'BF16') bits[i] = h << 16;
      else out[i] = f16(h);
    }
    return out;
  }
  const t = QUANT_TYPES[type], kernel = KERNELS[type];
  for (let b = 0, n = count / t.blockValues; b < n; b++) kernel(src, b * t.blockBytes, out, b * t.blockValues);
  return out;
}
