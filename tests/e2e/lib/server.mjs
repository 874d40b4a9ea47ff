// Starts the server under test as a child process and tells the test where it listens.
//
// E2E_TARGET picks the implementation: `roomcast` (default) runs the Rust binaries from
// ROOMCAST_BIN_DIR (default target/debug); `node` runs the Node.js peers in bench/peers/node,
// so the same test can show what Node's socket.io / engine.io do.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const TARGET = process.env.E2E_TARGET || 'roomcast';

const PROGRAMS = {
  probe: { roomcast: 'roomcast-probe', node: 'bench/peers/node/probe.js' },
  'eio-echo': { roomcast: 'roomcast-eio-echo', node: 'bench/peers/node/eio-echo.js' },
  // The chat demo has no Node twin: its tests skip under E2E_TARGET=node.
  chat: { roomcast: 'roomcast-chat' },
  // The gateway examples' twins are NestJS apps (tests/nest, built by scripts/test.sh).
  'gateway-rooms': { roomcast: 'roomcast-gateway-rooms', node: 'tests/nest/dist/rooms.js' },
  'gateway-showcase': { roomcast: 'roomcast-gateway-showcase', node: 'tests/nest/dist/showcase.js' },
};

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function command(kind, target) {
  const program = PROGRAMS[kind];
  if (!program) throw new Error(`unknown server kind ${kind}`);
  if (target === 'node') return [process.execPath, [path.join(ROOT, program.node)]];
  const dir = process.env.ROOMCAST_BIN_DIR || path.join(ROOT, 'target/debug');
  return [path.join(dir, program.roomcast), []];
}

/**
 * Starts `kind` ('probe' or 'eio-echo') with extra environment variables and resolves once it
 * prints `listening on PORT`. Returns `{ port, url, proc, output, stop, kill }`; `output()` is
 * what the process printed so far (stdout and stderr), for assertions on logs. `target`
 * (`roomcast` or `node`, default E2E_TARGET) picks the implementation, so that one test can run
 * both side by side.
 */
export async function startServer(kind, env = {}, target = TARGET) {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const [cmd, args] = command(kind, target);
  const proc = spawn(cmd, args, {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start:\n${out}`)), 15000);
    const onData = (chunk) => {
      out += chunk;
      if (out.includes(`listening on ${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${kind} could not start (${cmd}): ${error.message}`));
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited with ${code}:\n${out}`));
    });
  });
  await ready;
  const stop = () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  /** Ends the process at once (SIGKILL), as a crash would. */
  const kill = () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  return { port, url: `http://127.0.0.1:${port}`, proc, output: () => out, stop, kill, target };
}
