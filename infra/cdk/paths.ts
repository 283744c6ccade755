import { fileURLToPath } from 'node:url';

/** The repository root (where package.json, package-lock.json and functions/ live). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
