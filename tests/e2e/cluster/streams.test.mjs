// The Redis Streams adapter (ADAPTER=redis-streams, Node's @socket.io/redis-streams-adapter):
// every cluster operation, roomcast alone and mixed with Node on one stream; connection state
// recovery across servers (a client dropped from one server recovers on another, whichever
// implementation each is); several streams; foreign entries in the stream.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, afterEach, before, describe, test } from 'node:test';

import { startProxy } from '../lib/proxy.mjs';
import { startRedis } from '../lib/redis.mjs';
import { TARGET } from '../lib/server.mjs';
import {
  barrier,
  clientsOn,
  closeAll,
  clusterSuite,
  connect,
  emitWithAck,
  fetchUntil,
  nextTagged,
  startNodes,
  stopNodes,
  uniqueTag,
  waitFor,
  waitPastConnectErrors,
  waitUntil,
} from './helpers.mjs';

const run = promisify(execFile);

let redis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

/** A redis-cli command on the test's Redis; resolves with its output lines. */
async function cli(...args) {
  const { stdout } = await run('redis-cli', ['-p', String(redis.port), ...args]);
  return stdout.trim().split('\n');
}

const streams = (extra = {}) => ({ ADAPTER: 'redis-streams', REDIS_URL: redis.url, REDIS_KEY: uniqueTag('key'), ...extra });

clusterSuite(
  `three ${TARGET} probes, streams adapter`,
  () => startNodes([TARGET, TARGET, TARGET], streams()),
  [['websocket'], ['polling']],
);

clusterSuite('roomcast and Node probes, streams adapter', () => startNodes([TARGET, 'node', TARGET], streams()));

clusterSuite(
  'roomcast and Node probes, streams adapter with sharded pub/sub',
  () => startNodes(['node', TARGET, TARGET], streams({ REDIS_SHARDED_PUBSUB: '1' })),
);

const RECONNECT = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };

/** Records the first argument of each `news` event a socket receives. */
function newsOf(socket) {
  const got = [];
  socket.on('news', (tag) => got.push(tag));
  return got;
}

const PAIRS = [
  { from: TARGET, to: TARGET, transports: ['websocket'] },
  { from: TARGET, to: TARGET, transports: ['polling'] },
  { from: 'node', to: TARGET, transports: ['websocket'] },
  { from: TARGET, to: 'node', transports: ['websocket'] },
];

for (const { from, to, transports } of PAIRS) {
  describe(`recovery from a ${from} server on a ${to} server (${transports})`, () => {
    let nodes;
    let proxy;
    before(async () => {
      // A short heartbeat: a polling client cut off between two requests is noticed by the
      // pong it never sends, within PING_INTERVAL + PING_TIMEOUT.
      nodes = await startNodes([from, to], streams({ RECOVERY: '1', PING_INTERVAL: '500', PING_TIMEOUT: '1000' }));
    });
    after(async () => {
      closeAll();
      await proxy?.close();
      await stopNodes(nodes);
    });

    test('a client dropped from one server gets its socket, rooms and every missed event back on the other', async () => {
      const [a, b] = nodes;
      proxy = await startProxy(a.port);
      const room = uniqueTag('room');
      const { socket, hello } = await connect(proxy.url, '/', transports, RECONNECT);
      assert.equal(hello.recovered, false);
      await emitWithAck(socket, 'join', room);
      const [{ socket: onA, id: witness }, { socket: onB }] = await clientsOn(nodes, '/', ['websocket']);
      const got = newsOf(socket);
      // A witness in the room: once it has an event, that event is in the stream, so the next
      // one, from whichever server, comes after it.
      await emitWithAck(onA, 'join', room);
      const witnessed = newsOf(onA);
      const say = async (driver, tag, extra = {}) => {
        await emitWithAck(driver, 'broadcast', { from: 'server', to: [room], event: 'news', args: [tag], ...extra });
        if (tag.startsWith('missed')) await waitUntil(() => witnessed.includes(tag), `the witness's ${tag}`);
      };
      await say(onA, 'before');
      await waitUntil(() => got.includes('before'), 'the first event');

      // The network drops; the client comes back through the proxy, now to the other server.
      const dropped = waitFor(socket, 'disconnect');
      proxy.cut();
      await dropped;
      // The first server has let the socket go (and kept its session) before anything is missed.
      await fetchUntil(onA, { in: [room] }, [witness]);
      await say(onB, 'missed-1');
      await say(onA, 'missed-2');
      await say(onB, 'not-for-you', { to: [uniqueTag('other')] });
      await say(onA, 'excluded', { to: [], except: [room] });
      await emitWithAck(onB, 'broadcast', { from: 'server', event: 'news', args: ['missed-3'] });
      const reconnected = waitPastConnectErrors(socket, 'hello');
      proxy.resume(b.port);
      const [again] = await reconnected;
      assert.equal(again.recovered, true);
      assert.equal(again.id, hello.id);
      assert.equal(socket.id, hello.id);
      assert.equal(socket.recovered, true);

      await say(onA, 'after');
      await waitUntil(() => got.includes('after'), 'the event after recovery');
      assert.deepEqual(got, ['before', 'missed-1', 'missed-2', 'missed-3', 'after']);
      const rooms = await emitWithAck(socket, 'join', []);
      assert.ok(rooms.includes(room), `still in ${room}: ${rooms}`);
      // The cluster finds it on its new server.
      await fetchUntil(onA, { in: [room] }, [hello.id, witness]);
    });
  });
}

describe('sessions kept in Redis', () => {
  let nodes;
  const key = uniqueTag('key');
  before(async () => {
    nodes = await startNodes([TARGET, 'node'], streams({ RECOVERY: '1', RECOVERY_MAX_DISCONNECTION_MS: '1000', REDIS_KEY: key }));
  });
  after(async () => {
    closeAll();
    await stopNodes(nodes);
  });
  afterEach(closeAll);

  test('are kept as Node keeps them, only for the disconnections recovery covers', async () => {
    const { socket, hello } = await connect(nodes[0].url, '/', ['websocket']);
    const dropped = waitFor(socket, 'disconnect');
    socket.io.engine.close();
    await dropped;
    // Under its pid: base64 of MessagePack {sid, pid, rooms, data}, expiring.
    let kept;
    await waitUntil(async () => {
      for (const key of (await cli('--scan', '--pattern', 'sio:session:*')).filter(Boolean)) {
        const [value] = await cli('GET', key);
        const bytes = Buffer.from(value, 'base64');
        if (bytes.includes(Buffer.from(hello.id))) kept = { key, bytes };
      }
      return kept !== undefined;
    }, 'the session in Redis');
    assert.equal(kept.bytes[0], 0x84, 'a map of four');
    assert.equal(kept.bytes.subarray(1, 5).toString('latin1'), '\xa3sid');
    const [ttl] = await cli('PTTL', kept.key);
    assert.ok(Number(ttl) > 0 && Number(ttl) <= 1000, `PTTL ${ttl}`);

    // An explicit disconnect keeps nothing.
    const { socket: leaving } = await connect(nodes[0].url, '/', ['websocket']);
    const before = (await cli('--scan', '--pattern', 'sio:session:*')).filter(Boolean).length;
    leaving.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await cli('--scan', '--pattern', 'sio:session:*')).filter(Boolean).length, before);
  });

  test('an expired session, an unknown offset, or a forged pid give a fresh socket', async () => {
    for (const node of nodes) {
      const { socket, hello } = await connect(node.url, '/', ['websocket']);
      const dropped = waitFor(socket, 'disconnect');
      socket.io.engine.close();
      await dropped;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const reconnected = waitFor(socket, 'hello');
      socket.connect();
      const [again] = await reconnected;
      assert.equal(again.recovered, false, `${node.target}: expired`);
      assert.notEqual(again.id, hello.id);
    }
    for (const node of nodes) {
      const { socket: victim, hello } = await connect(node.url, '/', ['websocket']);
      for (const auth of [{ pid: 'forged-pid-forged-pid', offset: '1-0' }, { pid: hello.id, offset: '1-0' }, { pid: 'x', offset: 'garbage' }]) {
        const { hello: fresh } = await connect(node.url, '/', ['websocket'], { auth });
        assert.equal(fresh.recovered, false, `${node.target}: ${JSON.stringify(auth)}`);
        assert.notEqual(fresh.id, hello.id);
      }
      assert.equal(victim.connected, true);
    }
  });
});

describe('several streams (REDIS_STREAM_COUNT=4)', () => {
  let nodes;
  const key = uniqueTag('key');
  before(async () => {
    nodes = await startNodes([TARGET, 'node', TARGET], streams({ REDIS_STREAM_COUNT: '4', REDIS_KEY: key }));
  });
  after(async () => {
    closeAll();
    await stopNodes(nodes);
  });

  /** Broadcasts from each of `senders` to `nsp` and checks every client of `clients` gets it, through `stream`. */
  async function throughStream(nsp, stream, clients, senders = clients) {
    for (const entry of senders) {
      const tag = uniqueTag('n');
      const arrivals = clients.map((c) => nextTagged(c.socket, 'n', tag));
      const before = Number((await cli('XLEN', stream))[0]);
      await emitWithAck(entry.socket, 'broadcast', { from: 'server', event: 'n', args: [tag] });
      await Promise.all(arrivals).catch((error) => {
        throw new Error(`${nsp} from ${entry.node.target}: ${error.message}`);
      });
      assert.equal(Number((await cli('XLEN', stream))[0]), before + 1, `${nsp} through ${stream}`);
    }
  }

  test('each namespace goes through the stream Node picks for it, and every server reads them all', async () => {
    for (const [nsp, stream] of [
      ['/', `${key}-3`],
      ['/chat', `${key}-3`],
      ['/org-b', `${key}-2`],
      ['/custom', `${key}-${javaHash('/custom') % 4}`],
    ]) {
      await throughStream(nsp, stream, await clientsOn(nodes, nsp, ['websocket']));
      closeAll();
    }
  });

  test('a namespace whose hash is negative goes where Node writes it, and roomcast reads it', { skip: TARGET === 'node' }, async () => {
    // Node writes `/org-acme` to `<key>--2` and never reads that stream (its hash keeps its
    // sign); roomcast servers write the same stream, and read it.
    assert.equal(javaHash('/org-acme') % 4, -2);
    const roomcast = await clientsOn([nodes[0], nodes[2]], '/org-acme', ['websocket']);
    await throughStream('/org-acme', `${key}--2`, roomcast);
  });
});

/** Java's String.hashCode, as Node's adapter spreads namespaces over streams. */
function javaHash(text) {
  let hash = 0;
  for (let i = 0; i < text.length; i += 1) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  return hash;
}

// Node's reader would stop at the first broken entry, reading it again and again.
describe('foreign entries in the stream', { skip: TARGET === 'node' }, () => {
  let nodes;
  const key = uniqueTag('key');
  before(async () => {
    nodes = await startNodes([TARGET, TARGET], streams({ REDIS_KEY: key }));
  });
  after(async () => {
    closeAll();
    await stopNodes(nodes);
  });

  test('are logged and skipped; reading goes on past them', async () => {
    const clients = await clientsOn(nodes, '/', ['websocket']);
    const room = uniqueTag('room');
    for (const client of clients) await emitWithAck(client.socket, 'join', room);
    for (const fields of [
      ['uid', 'x', 'nsp', '/', 'type', '3'],
      ['uid', 'x', 'nsp', '/', 'type', 'three', 'data', '{}'],
      ['uid', 'x', 'nsp', '/', 'type', '3', 'data', '{not json'],
      ['uid', 'x', 'nsp', '/', 'type', '3', 'data', '!!not base64!!'],
      ['uid', 'x', 'nsp', '/', 'type', '3', 'data', 'kQ=='],
      ['uid', 'x', 'nsp', '/', 'type', '3', 'data', '{"packet":{"type":2,"data":"no"},"opts":{}}'],
      ['uid', 'x', 'nsp', '/', 'type', '4', 'data', '{"opts":{"rooms":7},"rooms":[]}'],
      ['uid', 'x', 'nsp', '/', 'type', '99', 'data', '{}'],
      ['nsp', '/unknown', 'type', '3', 'data', '{}'],
      ['hello', 'world'],
    ]) {
      await cli('XADD', key, '*', ...fields);
    }
    const tag = uniqueTag('after');
    const arrivals = clients.map((c) => nextTagged(c.socket, 'after', tag));
    await emitWithAck(clients[0].socket, 'broadcast', { from: 'server', to: [room], event: 'after', args: [tag] });
    await Promise.all(arrivals);
    await barrier(clients[1].socket, clients.map((c) => c.socket));
    for (const node of nodes) {
      assert.match(node.output(), /stream entry skipped/);
      assert.doesNotMatch(node.output(), /panicked/);
    }
  });
});
