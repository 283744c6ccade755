import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import archiver from 'archiver';
import unzipper from 'unzipper';

/**
 * A whatsapp-web.js session's snapshot: the part of its Chromium profile that keeps the account
 * linked, zipped. The same folders whatsapp-web.js's RemoteAuth keeps (`Default/IndexedDB` and
 * `Default/Local Storage`, at the same paths in the zip), so a snapshot unpacks into a fresh
 * profile directory and Chromium opens it as the linked session.
 */
export const SNAPSHOT_DIRS = ['Default/IndexedDB', 'Default/Local Storage'] as const;

/**
 * The profile directory of a tenant under `dataDir`: a tenant id of plain characters keeps its
 * name (`t_<id>`), any other is base64url-encoded (`x_<…>`), so no id can climb out of `dataDir`
 * and two ids never share a directory.
 */
export function profileDirFor(dataDir: string, tenantId: string): string {
  const name = /^[A-Za-z0-9_-]{1,100}$/.test(tenantId)
    ? `t_${tenantId}`
    : `x_${Buffer.from(tenantId, 'utf8').toString('base64url')}`;
  return path.join(path.resolve(dataDir), name);
}

async function isDirectory(target: string): Promise<boolean> {
  try {
    return (await stat(target)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Zips the session folders of the profile at `profileDir`; undefined when it has none (a profile
 * that never linked, or that whatsapp-web.js deleted: saving it would overwrite a good snapshot).
 */
export async function zipProfile(profileDir: string): Promise<Uint8Array | undefined> {
  const present: string[] = [];
  for (const dir of SNAPSHOT_DIRS) {
    if (await isDirectory(path.join(profileDir, dir))) present.push(dir);
  }
  if (present.length === 0) return undefined;
  const archive = archiver('zip', { zlib: { level: 6 } });
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    archive.on('data', (chunk: Buffer) => chunks.push(chunk));
    archive.once('end', () => resolve());
    archive.once('error', reject);
    // A file Chromium removes while we read it is not worth failing the whole snapshot.
    archive.on('warning', (warning: NodeJS.ErrnoException) => {
      if (warning.code !== 'ENOENT') reject(warning);
    });
  });
  for (const dir of present) archive.directory(path.join(profileDir, dir), dir);
  await archive.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Replaces the profile at `profileDir` with the snapshot `zip` (or with an empty profile when
 * there is none). Entries that would land outside the profile are refused.
 */
export async function restoreProfile(profileDir: string, zip: Uint8Array | undefined): Promise<void> {
  const root = path.resolve(profileDir);
  await rm(root, { recursive: true, force: true, maxRetries: 4 });
  await mkdir(root, { recursive: true });
  if (!zip) return;
  const directory = await unzipper.Open.buffer(Buffer.from(zip));
  for (const entry of directory.files) {
    const target = path.resolve(root, entry.path);
    if (target !== root && !target.startsWith(root + path.sep)) {
      throw new Error(`the session snapshot has an entry outside the profile: ${entry.path}`);
    }
    if (entry.type === 'Directory') {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, await entry.buffer());
  }
}
