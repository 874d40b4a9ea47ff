// roomcast-emit (the Rust emitter behind a line protocol) as a child process: one JSON command
// in, `ok` or `error: …` out.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

import { ROOT } from './server.mjs';

/** Starts roomcast-emit with `env` (REDIS_URL, REDIS_KEY); resolves once it is connected. */
export async function startEmitter(env) {
  const dir = process.env.ROOMCAST_BIN_DIR || path.join(ROOT, 'target/debug');
  const proc = spawn(path.join(dir, 'roomcast-emit'), [], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: proc.stdout });
  const replies = [];
  const waiting = [];
  lines.on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else replies.push(line);
  });
  const next = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('roomcast-emit did not answer')), 5000);
      const take = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
      if (replies.length) take(replies.shift());
      else waiting.push(take);
    });
  const ready = await next();
  if (ready !== 'ready') throw new Error(`roomcast-emit: ${ready}`);
  return {
    /** Runs one command; resolves with the reply line. */
    async send(command) {
      proc.stdin.write(`${JSON.stringify(command)}\n`);
      return next();
    },
    stop() {
      proc.stdin.end();
      return new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', resolve)));
    },
  };
}
