import { createServer, type Server } from 'node:http';
import type { RunnerHealth } from './qr-runner.ts';

/**
 * The task's `/health`: says only that the process answers and what it holds (its shard and
 * fencing version), never a tenant or a session. 200 while holding or looking for a shard, 503 once
 * it is stopping (ECS then stops sending it work; the container health check uses it).
 */
export function startHealthServer(
  health: () => RunnerHealth,
  port: number,
  host = '0.0.0.0',
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/health') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
      return;
    }
    const now = health();
    const alive = now.phase === 'holding' || now.phase === 'acquiring';
    response
      .writeHead(alive ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify({ ok: alive, ...now }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
