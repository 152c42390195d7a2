import { z } from 'zod';

/** What travels in Temporal payloads instead of large data: a pointer into the content-addressed store. */
export const ArtifactRef = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
  size: z.number().int().nonnegative(),
  kind: z.string().min(1),
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;
