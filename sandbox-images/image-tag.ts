import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The files whose bytes define the sandbox image; tag.sh hashes the same files in the same order. */
const RECIPE_FILES = ['packages.txt', 'build.sh'];

export const SANDBOX_IMAGE_REPO = 'mlagent-sandbox';

/** First 12 hex of sha256 over the recipe files, so the image is rebuilt exactly when the recipe changes. */
export function sandboxImageTag(): string {
  const hash = createHash('sha256');
  for (const f of RECIPE_FILES) hash.update(fs.readFileSync(path.join(__dirname, f)));
  return hash.digest('hex').slice(0, 12);
}

/** Full image reference built by sandbox-images/build.sh, e.g. `mlagent-sandbox:0123456789ab`. */
export function sandboxImage(): string {
  return `${SANDBOX_IMAGE_REPO}:${sandboxImageTag()}`;
}
