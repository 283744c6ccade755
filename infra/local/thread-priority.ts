import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the CPU priority of the local stack's background work (Linux niceness, per thread), so that
 * on a small machine the webhook's path — the HTTP server, the webhook isolate, fauxqs — is served
 * first and the consumers (the assistant's isolates, DynamoDB Local) use what is left: in AWS they
 * run on machines of their own. Niceness alone still let them take about a quarter of the CPU while a
 * burst of webhooks came in, so they also get Linux's SCHED_IDLE policy (through util-linux's `chrt`),
 * which runs them only when nothing else wants the core. Neither needs privilege; elsewhere than
 * Linux, without `chrt`, or when refused, what could not be set stays as it was. Only node: modules:
 * isolate-worker.ts loads it.
 */

/** Lowers the priority of the calling thread (/proc/thread-self names it: <pid>/task/<tid>). */
export function lowerThisThread(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0) lower(tid, nice);
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
          lower(Number(tid), nice);
        } catch {
          // The thread ended meanwhile.
        }
      }
    }
  } catch {
    // Not Linux, or not allowed.
  }
}

/** Niceness, then SCHED_IDLE (threads started later inherit both). */
function lower(tid: number, nice: number): void {
  setPriority(tid, nice);
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 2000 });
  } catch {
    // No chrt, or refused: niceness alone.
  }
}
