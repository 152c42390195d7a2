import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ModelConfig } from '../../model/config';
import { Tokenizer } from '../../model/tokenizer';

export const REPO = path.resolve(__dirname, '../..');
export const REF_SCRIPT = path.join(REPO, 'model/reference/qwen2_ref.py');

/** Runs the PyTorch reference with Debian's python3 (python3-torch), failing with what to install. */
export function pythonRef(args: string[]): string {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { stdio: 'pipe' });
  } catch {
    throw new Error('PyTorch reference needs Debian python3-torch and python3-numpy: run `make setup` (scripts/apt-packages.d/model.txt)');
  }
  return execFileSync('/usr/bin/python3', [REF_SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** Real text of this repository (docs and sources) as a small corpus. */
export function repoCorpus(maxFiles = 40): string[] {
  const files = ['docs/ARCHITECTURE.md', 'README.md', 'Makefile', 'package.json'].map((f) => path.join(REPO, f));
  for (const dir of ['core', 'activities', 'model', 'cli', 'scripts/setup.d']) {
    for (const f of fs.readdirSync(path.join(REPO, dir)).sort()) {
      const p = path.join(REPO, dir, f);
      if (fs.statSync(p).isFile()) files.push(p);
    }
  }
  return files.slice(0, maxFiles).map((f) => fs.readFileSync(f, 'utf8'));
}

export function tinyTokenizer(vocabSize = 320): Tokenizer {
  return Tokenizer.train({ texts: repoCorpus(8), vocabSize });
}

export function tinyConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    vocab_size: 320, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
    max_position_embeddings: 256, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false, ...overrides,
  };
}
