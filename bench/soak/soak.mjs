// Soak: round after round, CLIENTS Socket.IO clients (half WebSocket, half long-polling, the
// official socket.io-client, spread over worker processes) connect to `/` and to dynamic
// namespaces `/org-soak-N`, join rooms, each receive one broadcast, and leave. Between rounds
// the server is asked, through its API, what is left (sockets per namespace via the probe's
// /admin `stats`, rooms of `/` via `rooms`, open Engine.IO connections via /metrics); its RSS
// is sampled every second, and read after each round once nothing is left and SETTLE ms have
// passed with no client. Loopback only; every wait is bounded; it stops by itself after
// MINUTES (the round in progress finishes).
//
//   node bench/soak/soak.mjs [--clients 10000] [--minutes 10] [--workers 2] [--settle 2000]
//                            [--bin target/release/roomcast-probe] [--out bench/results/soak.jsonl]
import { fork, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROOMS = 200;
const ORGS = 10;
const STEP_TIMEOUT_MS = 120_000;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with `promise`, or rejects naming `what` after `ms`. */
async function bounded(promise, what, ms = STEP_TIMEOUT_MS) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The namespace and room of client `i`. */
function placement(i) {
  const nsp = i % 4 < 2 ? '/' : `/org-soak-${i % ORGS}`;
  return { nsp, room: `soak-${i % ROOMS}` };
}

// ---------------------------------------------------------------------------------------------
// Worker: holds its share of the clients for one round at a time, on the parent's orders.

async function worker() {
  const url = process.env.SOAK_URL;
  const [first, count] = [Number(process.env.SOAK_FIRST), Number(process.env.SOAK_COUNT)];
  let sockets = [];
  let received = 0;
  process.on('message', async ({ step, round }) => {
    try {
      if (step === 'join') {
        received = 0;
        sockets = [];
        const indices = Array.from({ length: count }, (_, k) => first + k);
        for (let at = 0; at < indices.length; at += 200) {
          await Promise.all(indices.slice(at, at + 200).map(async (i) => {
            const { nsp, room } = placement(i);
            const socket = io(url + nsp, {
              transports: i % 2 === 0 ? ['websocket'] : ['polling'],
              forceNew: true,
              reconnection: false,
              timeout: 20_000,
            });
            sockets.push(socket);
            socket.on('tick', (tick) => {
              if (tick === round) received += 1;
            });
            await new Promise((resolve, reject) => {
              socket.once('hello', resolve);
              socket.once('connect_error', reject);
            });
            await socket.timeout(20_000).emitWithAck('join', room);
          }));
        }
        process.send({ step: 'joined' });
      } else if (step === 'count') {
        process.send({ step: 'counted', received });
      } else if (step === 'leave') {
        for (const socket of sockets) socket.disconnect();
        sockets = [];
        process.send({ step: 'left' });
      }
    } catch (error) {
      process.send({ step: 'failed', error: String(error?.stack ?? error) });
    }
  });
  process.send({ step: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Parent: runs the server, the rounds, the checks and the RSS samples.

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Sends `step` to every worker and waits for each one's `expect` answer. */
function everyWorker(workers, message, expect) {
  return Promise.all(
    workers.map(
      (child) =>
        new Promise((resolve, reject) => {
          const onMessage = (reply) => {
            if (reply.step === 'failed') {
              child.off('message', onMessage);
              reject(new Error(reply.error));
            } else if (reply.step === expect) {
              child.off('message', onMessage);
              resolve(reply);
            }
          };
          child.on('message', onMessage);
          child.send(message);
        }),
    ),
  );
}

async function connectControl(url, nsp, auth) {
  const socket = io(url + nsp, { transports: ['websocket'], forceNew: true, reconnection: false, auth });
  await bounded(new Promise((resolve, reject) => {
    socket.once('hello', resolve);
    socket.once('connect_error', reject);
  }), `control socket on ${nsp}`, 20_000);
  return socket;
}

/** What the server still holds, through its API. */
async function leftovers(url, control, admin) {
  const { namespaces } = await admin.timeout(10_000).emitWithAck('stats');
  const rooms = await control.timeout(10_000).emitWithAck('rooms');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const connections = [...metrics.matchAll(/^roomcast_connections\{[^}]*\} (\d+)/gm)]
    .reduce((sum, [, n]) => sum + Number(n), 0);
  return { namespaces, rooms, connections };
}

async function parent() {
  const clients = Number(option('clients', 10_000));
  const minutes = Number(option('minutes', 10));
  const workersCount = Number(option('workers', 2));
  const settleMs = Number(option('settle', 2000));
  const bin = path.resolve(ROOT, option('bin', 'target/release/roomcast-probe'));
  const out = path.resolve(ROOT, option('out', 'bench/results/soak.jsonl'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(bin, [], {
    env: { ...process.env, PORT: String(port), METRICS: '1', CLEANUP_EMPTY_CHILD_NAMESPACES: '1', RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await bounded(new Promise((resolve) => {
    let printed = '';
    server.stdout.on('data', (chunk) => {
      printed += chunk;
      if (printed.includes(`listening on ${port}`)) resolve();
    });
  }), 'server start', 20_000);

  const samples = [];
  const sampler = setInterval(() => samples.push([Date.now(), rssKiB(server.pid)]), 1000);
  const share = Math.ceil(clients / workersCount);
  const workers = Array.from({ length: workersCount }, (_, w) =>
    fork(fileURLToPath(import.meta.url), ['--worker'], {
      env: { ...process.env, SOAK_URL: url, SOAK_FIRST: String(w * share), SOAK_COUNT: String(Math.min(share, clients - w * share)) },
    }),
  );
  await bounded(Promise.all(workers.map((child) => new Promise((resolve) => child.once('message', resolve)))), 'workers start');

  const control = await connectControl(url, '/');
  const admin = await connectControl(url, '/admin', { token: 'secret' });
  const baseline = await leftovers(url, control, admin);
  const started = Date.now();
  const rounds = [];
  let failure = null;
  try {
    for (let round = 1; Date.now() - started < minutes * 60_000; round += 1) {
      const t0 = Date.now();
      await bounded(everyWorker(workers, { step: 'join', round }, 'joined'), `round ${round}: join`);
      const joined = Date.now();
      const orgs = await Promise.all(Array.from({ length: ORGS }, (_, k) => connectControl(url, `/org-soak-${k}`)));
      const allRooms = Array.from({ length: ROOMS }, (_, r) => `soak-${r}`);
      for (const socket of [control, ...orgs]) {
        await socket.timeout(20_000).emitWithAck('broadcast', { from: 'server', to: allRooms, event: 'tick', args: [round] });
      }
      let received = 0;
      await bounded((async () => {
        for (;;) {
          const counts = await everyWorker(workers, { step: 'count' }, 'counted');
          received = counts.reduce((sum, { received: n }) => sum + n, 0);
          if (received >= clients) return;
          await delay(200);
        }
      })(), `round ${round}: deliveries (${received}/${clients})`);
      await bounded(everyWorker(workers, { step: 'leave' }, 'left'), `round ${round}: leave`);
      for (const socket of orgs) socket.disconnect();
      // What is left once the server has seen every client go (bounded).
      let left;
      await bounded((async () => {
        for (;;) {
          left = await leftovers(url, control, admin);
          const clean = left.connections === baseline.connections && left.rooms.length === 0
            && JSON.stringify(left.namespaces) === JSON.stringify(baseline.namespaces);
          if (clean) return;
          await delay(500);
        }
      })(), `round ${round}: cleanup ${JSON.stringify(left)}`, 60_000);
      const rssAtCleanup = rssKiB(server.pid);
      await delay(settleMs);
      const rss = rssKiB(server.pid);
      rounds.push({ round, ms: Date.now() - t0, joinMs: joined - t0, received, rssAtCleanupKiB: rssAtCleanup, rssKiB: rss });
      console.log(`round ${round}: ${clients} clients joined in ${joined - t0} ms, ${received} deliveries, all gone; RSS ${(rss / 1024).toFixed(1)} MiB`);
    }
  } catch (error) {
    failure = String(error?.stack ?? error);
    console.error(failure);
  }
  clearInterval(sampler);
  const final = failure ? null : await leftovers(url, control, admin);
  control.disconnect();
  admin.disconnect();
  for (const child of workers) child.kill();
  server.kill('SIGTERM');

  const peak = Math.max(...samples.map(([, kib]) => kib));
  const afterFirst = rounds[0]?.rssKiB ?? null;
  const atEnd = rounds.at(-1)?.rssKiB ?? null;
  const result = {
    at: new Date().toISOString(),
    clients,
    minutes,
    rounds: rounds.length,
    failure,
    rssAfterFirstRoundKiB: afterFirst,
    rssAtEndKiB: atEnd,
    rssDriftPercent: afterFirst && atEnd ? Number((((atEnd - afterFirst) / afterFirst) * 100).toFixed(1)) : null,
    peakRssKiB: peak,
    leftAtEnd: final,
    baseline,
    perRound: rounds,
    rssSamples: samples.filter((_, k) => k % 10 === 0).map(([t, kib]) => [Math.round((t - started) / 1000), kib]),
  };
  appendFileSync(out, `${JSON.stringify(result)}\n`);
  console.log(JSON.stringify({ ...result, perRound: undefined, rssSamples: undefined }, null, 2));
  process.exit(failure ? 1 : 0);
}

if (process.argv.includes('--worker')) worker();
else parent();
