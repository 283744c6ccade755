import { readFile } from 'node:fs/promises';

/**
 * The resident memory of a process and all its descendants (Chromium runs a browser process and a
 * renderer, GPU and utility processes under it), read from Linux's /proc. Undefined when the process
 * is gone or /proc cannot tell (another OS).
 */
export async function processTreeRssBytes(pid: number, proc = '/proc'): Promise<number | undefined> {
  const own = await rssOf(pid, proc);
  if (own === undefined) return undefined;
  let total = own;
  for (const child of await childrenOf(pid, proc)) total += (await processTreeRssBytes(child, proc)) ?? 0;
  return total;
}

async function rssOf(pid: number, proc: string): Promise<number | undefined> {
  try {
    const status = await readFile(`${proc}/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

async function childrenOf(pid: number, proc: string): Promise<number[]> {
  try {
    const text = await readFile(`${proc}/${pid}/task/${pid}/children`, 'utf8');
    return text.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
