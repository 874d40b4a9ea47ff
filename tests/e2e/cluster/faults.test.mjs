// Faults across a cluster: Redis going away and coming back, a server that stops answering in the
// middle of requests, and foreign or malformed messages on the adapters' channels.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { startRedis } from '../lib/redis.mjs';
import { TARGET } from '../lib/server.mjs';
import {
  barrier,
  clientsOn,
  closeAll,
  emitWithAck,
  fetchUntil,
  nextTagged,
  startNodes,
  stopNodes,
  uniqueTag,
  waitUntil,
} from './helpers.mjs';

/** A broadcast from `entry`'s node to `room`, retried with fresh tags until `receivers` all get one. */
async function broadcastUntilReceived(entry, receivers, room) {
  await waitUntil(async () => {
    const tag = uniqueTag('again');
    const arrivals = receivers.map((socket) => nextTagged(socket, 'again', tag, 300).then(() => true, () => false));
    await emitWithAck(entry, 'broadcast', { from: 'server', to: [room], event: 'again', args: [tag] });
    return (await Promise.all(arrivals)).every(Boolean);
  }, 'a broadcast across the cluster again', 20000);
}

describe('Redis stops and comes back', () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes([TARGET, 'node', TARGET], { ADAPTER: 'redis', REDIS_URL: redis.url, REDIS_KEY: uniqueTag('key') });
  });
  after(async () => {
    closeAll();
    await stopNodes(nodes);
    await redis.stop();
  });

  test('local sockets stay, local broadcasts go on, cluster broadcasts resume', async () => {
    const clients = await clientsOn(nodes, '/', ['websocket']);
    const room = uniqueTag('room');
    for (const client of clients) await emitWithAck(client.socket, 'join', room);
    await broadcastUntilReceived(clients[0].socket, clients.map((c) => c.socket), room);

    await redis.stop();
    // Without Redis, each roomcast server still delivers to its own sockets.
    for (const client of [clients[0], clients[2]]) {
      const tag = uniqueTag('local');
      const arrival = nextTagged(client.socket, 'local', tag);
      await emitWithAck(client.socket, 'broadcast', { from: 'server', to: [room], event: 'local', args: [tag] });
      await arrival;
    }

    await redis.restart();
    await broadcastUntilReceived(clients[2].socket, clients.map((c) => c.socket), room);
    for (const client of clients) assert.equal(client.socket.connected, true);
    for (const node of nodes.filter((n) => n.target === 'roomcast')) {
      assert.match(node.output(), /connection to Redis lost/);
      // The broadcasting server reaches its own sockets without its subscription: it may
      // still be resubscribing when the broadcast has gone round.
      await waitUntil(() => /Redis is back: subscribed again after/.test(node.output()), 'the resubscription logged', 20000);
      assert.doesNotMatch(node.output(), /panicked/);
    }
  });
});

describe('a server stops answering while requests are in flight', () => {
  let redis;
  let nodes;
  const env = () => ({ ADAPTER: 'redis', REDIS_URL: redis.url, REDIS_KEY: key, REDIS_REQUESTS_TIMEOUT: '1000' });
  const key = uniqueTag('key');
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes([TARGET, TARGET, 'node'], env());
  });
  after(async () => {
    closeAll();
    await stopNodes(nodes);
    await redis.stop();
  });

  test('requests end at the timeout with what came, and the count heals when it dies', async () => {
    const clients = await clientsOn(nodes, '/', ['websocket']);
    const room = uniqueTag('room');
    for (const client of clients) {
      await emitWithAck(client.socket, 'join', room);
      client.socket.on('question', (ack) => ack(client.id));
    }
    await fetchUntil(clients[0].socket, {}, clients.map((c) => c.id));

    // The third server freezes: still subscribed, so still counted, but silent.
    const frozen = nodes[2];
    frozen.proc.kill('SIGSTOP');
    const [withAck, fetched] = await Promise.all([
      emitWithAck(clients[0].socket, 'broadcastWithAck', { to: [room], event: 'question', args: [], timeoutMs: 1000 }),
      emitWithAck(clients[0].socket, 'fetch', {}),
    ]);
    assert.equal(withAck.err, 'operation has timed out');
    assert.deepEqual([...withAck.responses].sort(), [clients[0].id, clients[1].id].sort());
    assert.match(fetched.error, /timeout reached while waiting for fetchSockets response: 1 of 2 servers answered/);

    // It dies: the next request counts the servers left.
    await frozen.kill();
    await fetchUntil(clients[0].socket, {}, [clients[0].id, clients[1].id]);

    // A Node server joining late is counted from its first subscription.
    const [late] = await startNodes(['node'], env());
    const [lateClient] = await clientsOn([late], '/', ['websocket']);
    await fetchUntil(clients[0].socket, {}, [clients[0].id, clients[1].id, lateClient.id]);
    await late.stop();
  });
});

/** Publishes `payload` (a string, or bytes) on `channel` with redis-cli. */
async function publish(redis, channel, payload, sharded = false) {
  const child = execFile('redis-cli', ['-p', String(redis.port), '-x', sharded ? 'SPUBLISH' : 'PUBLISH', channel]);
  child.stdin.end(payload);
  await new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli ${code}`)))));
}

const GARBAGE = [
  Buffer.from('not msgpack or json'),
  Buffer.from([0x93, 0x01]),
  Buffer.from([0xc1]),
  Buffer.from('{"type":5}'),
  Buffer.from('{"type":99,"uid":"x","nsp":"/"}'),
  Buffer.from('["x", {}, null]'),
  Buffer.from([0x93, 0xa1, 0x78, 0x80, 0xc0]),
  Buffer.from('{"uid":"x","type":7,"requestId":"r","packet":{"data":[]}}'),
  Buffer.alloc(0),
];

for (const adapter of ['redis', 'redis-sharded']) {
  describe(`foreign and malformed messages on the ${adapter} channels`, () => {
    let redis;
    let nodes;
    const key = uniqueTag('key');
    before(async () => {
      redis = await startRedis();
      nodes = await startNodes([TARGET, TARGET], { ADAPTER: adapter, REDIS_URL: redis.url, REDIS_KEY: key });
    });
    after(async () => {
      closeAll();
      await stopNodes(nodes);
      await redis.stop();
    });

    test('are logged and skipped; every server and socket goes on', async () => {
      const clients = await clientsOn(nodes, '/', ['websocket']);
      const room = uniqueTag('room');
      for (const client of clients) await emitWithAck(client.socket, 'join', room);
      const sharded = adapter === 'redis-sharded';
      const channels = sharded
        ? [`${key}#/#`, `${key}#/#${room}#`]
        : [`${key}#/#`, `${key}#/#${room}#`, `${key}-request#/#`, `${key}-response#/#`];
      for (const channel of channels) {
        for (const payload of GARBAGE) await publish(redis, channel, payload, sharded);
      }
      await broadcastUntilReceived(clients[0].socket, clients.map((c) => c.socket), room);
      await barrier(clients[1].socket, clients.map((c) => c.socket));
      for (const client of clients) assert.equal(client.socket.connected, true);
      for (const node of nodes) {
        if (node.target !== 'roomcast') continue;
        assert.match(node.output(), /message from Redis skipped/);
        assert.doesNotMatch(node.output(), /panicked/);
      }
    });
  });
}
