import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readGguf, tensorFloat32 } from '../../model/gguf';
import { importGguf } from '../../model/gguf-import';
import { QuantType, dequantize } from '../../model/gguf-quants';
import { REPO } from './fixtures';
import { golden, shippedGguf } from './gguf-fixture';

const sha = (a: Float32Array) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

test('every tensor of the shipped GGUF dequantizes bit-exactly like gguf.quants.dequantize', { timeout: 120_000 }, async () => {
  const g = golden();
  const file = await readGguf(shippedGguf());
  assert.equal(createHash('sha256').update(file.bytes).digest('hex'), g.file.sha256, 'the installed GGUF is the one the golden file was recorded from');
  assert.deepEqual([...file.tensors.keys()].sort(), Object.keys(g.tensors).sort());
  for (const [name, want] of Object.entries(g.tensors)) {
    const t = file.tensors.get(name)!;
    assert.equal(t.type, want.type, `${name} type`);
    assert.deepEqual(t.shape, want.shape, `${name} shape`);
    assert.equal(sha(tensorFloat32(file, name)), want.sha256, `${name} (${t.type}) differs from gguf-py`);
  }
});

test('seeded random blocks of every supported quant type dequantize bit-exactly like gguf-py', { timeout: 30_000 }, () => {
  const g = golden();
  assert.deepEqual(Object.keys(g.synthetic).sort(), ['BF16', 'F16', 'F32', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_0', 'Q5_1', 'Q5_K', 'Q6_K', 'Q8_0']);
  for (const [type, s] of Object.entries(g.synthetic)) {
    const out = dequantize(Buffer.from(s.bytes_b64, 'base64'), type as QuantType, s.count);
    assert.deepEqual(Array.from(out.subarray(0, 4)), s.first, `${type} first values`);
    assert.equal(sha(out), s.sha256, `${type} differs from gguf-py`);
  }
});

/** A minimal GGUF v3 file: string metadata and one tensor [rows, 256] of the given ggml type id. */
function tinyGguf(p: { arch: string; typeId: number; blockBytes: number; rows?: number }): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); parts.push(b); };
  const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); parts.push(b); };
  const str = (s: string) => { u64(Buffer.byteLength(s)); parts.push(Buffer.from(s)); };
  const rows = p.rows ?? 1;
  parts.push(Buffer.from('GGUF'));
  u32(3); u64(1); u64(1);
  str('general.architecture'); u32(8); str(p.arch);
  str('token_embd.weight'); u32(2); u64(256); u64(rows); u32(p.typeId); u64(0);
  const head = Buffer.concat(parts);
  const pad = Buffer.alloc((32 - (head.length % 32)) % 32);
  return Buffer.concat([head, pad, Buffer.alloc(p.blockBytes * rows)]);
}

function tmpFile(name: string, data: Buffer): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-gguf-')), name);
  fs.writeFileSync(f, data);
  return f;
}

test('corrupt, truncated or unsupported GGUF files are rejected with a message naming the problem', { timeout: 60_000 }, async () => {
  const real = fs.readFileSync(shippedGguf());
  const flipped = Buffer.from(real.subarray(0, 4096));
  flipped[1] ^= 0xff;
  await assert.rejects(readGguf(tmpFile('magic.gguf', flipped)), /not a GGUF file \(magic/);
  const version = Buffer.from(real.subarray(0, 4096));
  version[4] = 9;
  await assert.rejects(readGguf(tmpFile('version.gguf', version)), /GGUF version 9 is not supported/);
  await assert.rejects(readGguf(tmpFile('cut-data.gguf', real.subarray(0, real.length - 1000))), /truncated or corrupt \(tensor .* ends at byte \d+, the file has/);
  await assert.rejects(readGguf(tmpFile('cut-header.gguf', real.subarray(0, 20_000))), /truncated|corrupt/);
  await assert.rejects(readGguf(tmpFile('q2k.gguf', tinyGguf({ arch: 'llama', typeId: 10, blockBytes: 84 }))), /token_embd\.weight has ggml type Q2_K, which this importer cannot dequantize/);
  await assert.rejects(importGguf(tmpFile('mamba.gguf', tinyGguf({ arch: 'mamba', typeId: 0, blockBytes: 1024 }))), /architecture "mamba" is not supported \(llama, qwen2 are\)/);
});

test('a failed `mlagent model import` leaves no record and no artifact behind', { timeout: 60_000 }, () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlagent-import-'));
  const real = fs.readFileSync(shippedGguf());
  const bad = tmpFile('SmolLM2-cut.gguf', real.subarray(0, real.length - 1000));
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'cli/main.ts'), 'model', 'import', bad, '--name', 'cut'], { env: { ...process.env, MLAGENT_HOME: home }, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /SmolLM2-cut\.gguf: truncated/);
  assert.deepEqual(fs.readdirSync(home), [], 'nothing written under MLAGENT_HOME');
});
