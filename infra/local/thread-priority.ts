import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the CPU priority of the local stack's background work (Linux niceness, per thread), so that
 * on a small machine the webhook's path — the HTTP server, the webhook isolate, fauxqs — is served
 * first and the consumers (the assistant's isolates, DynamoDB Local) use what is left: in AWS they
 * run on machines of their own. Raising niceness needs no privilege; elsewhere than Linux, or when
 * refused, everything stays at normal priority. Only node: modules: isolate-worker.ts loads it.
 */

/** Lowers the priority of the calling thread (/proc/thread-self names it: <pid>/task/<tid>). */
export function lowerThisThread(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux, or not allowed.
  }
}

/**
 * Lowers the priority of every thread of this process's child whose command line contains `marker`
 * (threads it starts later inherit it from the thread that starts them).
 */
export function lowerChildProcess(marker: string, nice: number): void {
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      let cmdline: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue;
      }
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid || !cmdline.includes(marker)) continue;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
          setPriority(Number(tid), nice);
        } catch {
          // The thread ended meanwhile.
        }
      }
    }
  } catch {
    // Not Linux, or not allowed.
  }
}
