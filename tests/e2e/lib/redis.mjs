// Real Redis servers for the cluster tests: a standalone `redis-server`, or a Redis Cluster of
// three masters, each on free ports of 127.0.0.1, with nothing written to disk. They are the
// Debian packages `redis-server` and `redis-tools` (scripts/test.sh installs them).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `port` can be bound on 127.0.0.1 now. */
function isFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeRedisPort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if ((await isFree(port)) && (await isFree(port + 10000))) return port;
  }
}

/** Starts one redis-server; resolves once it accepts connections. */
async function startProcess(port, extra = [], dir = undefined) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra];
  if (dir) args.push('--dir', dir);
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server ${port} did not start:\n${out}`)), 10000);
    const onData = (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not start: ${error.message}`));
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return { proc, stop: () => (proc.exitCode === null && proc.signalCode === null ? (proc.kill('SIGKILL'), exited) : exited) };
}

/**
 * A standalone Redis on a free port: `{ url, port, stop(), restart() }`. `stop` kills it
 * (as a crash would); `restart` starts it again on the same port.
 */
export async function startRedis() {
  const port = await freeRedisPort();
  let server = await startProcess(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => server.stop(),
    async restart() {
      await server.stop();
      server = await startProcess(port);
    },
  };
}

/**
 * A Redis Cluster of three masters (no replicas) on free ports: `{ urls, url, stop() }`, `url`
 * being the comma-separated seed list the probes take as REDIS_URL.
 */
export async function startRedisCluster() {
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-redis-cluster-'));
  const ports = [];
  const servers = [];
  for (let i = 0; i < 3; i += 1) {
    const port = await freeRedisPort();
    ports.push(port);
    servers.push(
      await startProcess(
        port,
        ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'],
        dir,
      ),
    );
  }
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
  for (let attempt = 0; ; attempt += 1) {
    const states = await Promise.all(
      ports.map((port) => run('redis-cli', ['-p', String(port), 'cluster', 'info']).then(({ stdout }) => stdout)),
    );
    if (states.every((info) => info.includes('cluster_state:ok'))) break;
    if (attempt > 100) throw new Error('the Redis Cluster did not become ready');
    await delay(100);
  }
  const urls = ports.map((port) => `redis://127.0.0.1:${port}`);
  return {
    ports,
    urls,
    url: urls.join(','),
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * How many subscribers the sharded channel `channel` has, summed over `urls` (the nodes of a
 * cluster, or one server): the sharded adapter subscribes to a room's channel after the room is
 * joined, and a test waits for it before publishing to the room.
 */
export async function shardSubscribers(urls, channel) {
  const counts = await Promise.all(
    urls.map(async (url) => {
      const port = new URL(url).port;
      const { stdout } = await run('redis-cli', ['-p', port, 'PUBSUB', 'SHARDNUMSUB', channel]);
      return Number(stdout.trim().split('\n')[1] ?? 0);
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}
