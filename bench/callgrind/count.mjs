// Counts the probe's user-space instructions per delivery (fan-out) or per acknowledgement
// (echo) with callgrind, instrumentation on around the measured part only: deterministic, so
// an A/B of two builds or two settings holds on a noisy machine.
//
//   node bench/callgrind/count.mjs fanout|echo PROBE_BINARY [NAME=VALUE ...]
//   node bench/callgrind/count.mjs fanout target/release/roomcast-probe METRICS=1 ADMIN_UI=1
//
// fanout: 500 WebSocket clients join one room, then one `blast` of 100 messages (50,000
// deliveries). echo: 50 clients, 100 acknowledged `echo`s each (5,000 acks).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';

const [scenario, bin, ...settings] = process.argv.slice(2);
if (!['fanout', 'echo'].includes(scenario) || !bin) {
  console.error('usage: node bench/callgrind/count.mjs fanout|echo PROBE_BINARY [NAME=VALUE ...]');
  process.exit(2);
}
const port = 3900 + (process.pid % 90);
const env = { ...process.env, PORT: String(port) };
for (const setting of settings) {
  const [name, ...value] = setting.split('=');
  env[name] = value.join('=');
}
const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'roomcast-cg-')), 'callgrind.out');
const server = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, bin], {
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
});
await new Promise((resolve, reject) => {
  let printed = '';
  const timer = setTimeout(() => reject(new Error(`the probe did not start:\n${printed}`)), 60_000);
  server.stdout.on('data', (chunk) => {
    printed += chunk;
    if (printed.includes('listening on')) {
      clearTimeout(timer);
      resolve();
    }
  });
});
const instrument = (state) => execFileSync('callgrind_control', ['-i', state, String(server.pid)], { stdio: 'ignore' });

const [clientCount, perClient] = scenario === 'fanout' ? [500, 100] : [50, 100];
const clients = [];
let delivered = 0;
for (let i = 0; i < clientCount; i += 1) {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 60_000 });
  await new Promise((resolve) => socket.once('hello', resolve));
  if (scenario === 'fanout') {
    await socket.timeout(60_000).emitWithAck('join', 'room');
    socket.on('m', () => {
      delivered += 1;
    });
  }
  clients.push(socket);
}

instrument('on');
if (scenario === 'fanout') {
  await clients[0].timeout(600_000).emitWithAck('blast', { to: ['room'], event: 'm', count: perClient, payload: 'x'.repeat(50) });
  while (delivered < clientCount * perClient) await new Promise((resolve) => setTimeout(resolve, 50));
} else {
  await Promise.all(
    clients.map(async (socket) => {
      for (let i = 0; i < perClient; i += 1) {
        await socket.timeout(600_000).emitWithAck('echo', 'x'.repeat(50));
        delivered += 1;
      }
    }),
  );
}
instrument('off');
for (const socket of clients) socket.disconnect();
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));

const annotated = execFileSync('callgrind_annotate', [out], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
const total = Number(annotated.match(/([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS/)[1].replaceAll(',', ''));
const [unit, units] = scenario === 'fanout' ? ['delivery', 'deliveries'] : ['ack', 'acks'];
console.log(`${scenario} ${settings.join(' ') || '(no settings)'}: ${delivered} ${units}, ${Math.round(total / delivered)} instructions per ${unit} (${out})`);
