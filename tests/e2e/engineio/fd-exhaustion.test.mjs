// Out of file descriptors: the probe runs under a hard limit of 48 open files and is sent more
// connections than that. It must not die or spin: it logs once per episode, closes the
// connections it cannot serve at once, and takes new ones again when descriptors are freed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { ROOT, TARGET, freePort } from '../lib/server.mjs';
import { waitUntil } from '../lib/util.mjs';
import { withDeadline } from './helpers.mjs';

const LIMIT = 48;
const OUT_OF_FDS = /out of file descriptors: refusing new connections/g;
const RECOVERED = /file descriptors available again/g;

/** Opens a TCP connection and resolves once connected, with a promise of its close. */
function hold(port) {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    const closed = new Promise((done) => socket.once('close', done));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('close', () => resolve({ socket, closed }));
  });
}

/** Whether `promise` settles within `ms`. */
const settlesWithin = (promise, ms) =>
  Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

/** CPU time (user + system, clock ticks) the process has used so far. */
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const count = (text, pattern) => (text.match(pattern) || []).length;

describe('out of file descriptors', { skip: TARGET === 'node', timeout: 60000 }, () => {
  let proc;
  let port;
  let output = '';
  before(async () => {
    port = await freePort();
    const bin = path.join(process.env.ROOMCAST_BIN_DIR || path.join(ROOT, 'target/debug'), 'roomcast-probe');
    proc = spawn('sh', ['-c', `ulimit -Sn ${LIMIT} && ulimit -Hn ${LIMIT} && exec "$0"`, bin], {
      env: { ...process.env, RUST_LOG: 'info', PORT: String(port), HTTP_KEEP_ALIVE_TIMEOUT: '60000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk) => {
      output += chunk;
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    await waitUntil(() => output.includes(`listening on ${port}`) || proc.exitCode !== null, 'probe start', 15000);
    assert.equal(proc.exitCode, null, output);
  });
  after(() => proc?.kill('SIGKILL'));

  async function exhaust(episode) {
    const held = [];
    for (let i = 0; i < LIMIT + 20; i += 1) held.push(await hold(port));
    await waitUntil(() => count(output, OUT_OF_FDS) >= episode, 'the out-of-descriptors log');
    return held;
  }

  /**
   * Waits for the `n`th recovery line: an episode ends at the first accept a second after its
   * last refused connection, so connections keep coming meanwhile.
   */
  async function recovered(n) {
    await waitUntil(async () => {
      // A new connection each time: the server checks on each accept.
      (await hold(port)).socket.destroy();
      await sleep(100);
      return count(output, RECOVERED) >= n;
    }, `recovery line ${n}`, 5000);
    assert.equal(count(output, RECOVERED), n);
  }

  test('the open file limit in force is logged at start', () => {
    assert.match(output, new RegExp(`open file limit limit=${LIMIT}`));
  });

  test('connections past the limit are closed at once, the server stays up and recovers', async () => {
    const held = await exhaust(1);
    // Connections past the limit are refused: closed by the server right away.
    const refused = [];
    for (let i = 0; i < 10; i += 1) refused.push(await hold(port));
    assert.ok(await settlesWithin(Promise.all(refused.map((c) => c.closed)), 3000), 'extra connections closed');
    // No busy loop while starved: a second of wall clock costs far less than a second of CPU.
    const ticks = cpuTicks(proc.pid);
    await sleep(1000);
    assert.ok(cpuTicks(proc.pid) - ticks < 50, 'the accept loop does not spin');
    assert.equal(proc.exitCode, null);
    assert.equal(count(output, OUT_OF_FDS), 1);
    // Free the descriptors: the server serves again.
    for (const { socket } of held) socket.destroy();
    await sleep(200);
    const client = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
    try {
      await withDeadline(new Promise((resolve, reject) => {
        client.once('connect', resolve);
        client.once('connect_error', reject);
      }), 'connect after recovery');
      assert.equal(await client.timeout(3000).emitWithAck('echo', 'back'), 'back');
    } finally {
      client.close();
    }
    await recovered(1);
    assert.equal(count(output, OUT_OF_FDS), 1);
  });

  test('each episode is logged once', async () => {
    const held = await exhaust(2);
    for (let i = 0; i < 10; i += 1) (await hold(port)).socket.destroy();
    assert.equal(count(output, OUT_OF_FDS), 2);
    for (const { socket } of held) socket.destroy();
    await sleep(200);
    const res = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    await recovered(2);
    assert.equal(count(output, OUT_OF_FDS), 2);
  });
});
