// Emitters publish into rooms spread over roomcast and Node servers: Node's
// @socket.io/redis-emitter and roomcast's own (roomcast-emit).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { startEmitter } from '../lib/emit.mjs';
import { startRedis } from '../lib/redis.mjs';
import { TARGET } from '../lib/server.mjs';
import {
  barrier,
  clientsOn,
  closeAll,
  emitWithAck,
  fetchUntil,
  nextTagged,
  record,
  startNodes,
  stopNodes,
  uniqueTag,
  waitFor,
} from './helpers.mjs';

const require = createRequire(import.meta.url);
const { Emitter } = require('@socket.io/redis-emitter');
const { createClient } = require('redis');

/** Node's emitter and roomcast's, behind one interface. */
async function nodeEmitter(url, key) {
  const client = createClient({ url });
  await client.connect();
  const root = new Emitter(client, { key });
  return {
    label: '@socket.io/redis-emitter',
    async emit({ nsp = '/', to = [], except = [], event, args }) {
      root.of(nsp).to(to).except(except).emit(event, ...args);
    },
    async socketsJoin({ nsp = '/', in: rooms = [], rooms: joined }) {
      root.of(nsp).in(rooms).socketsJoin(joined);
    },
    async socketsLeave({ nsp = '/', in: rooms = [], rooms: left }) {
      root.of(nsp).in(rooms).socketsLeave(left);
    },
    async disconnectSockets({ nsp = '/', in: rooms = [], close = false }) {
      root.of(nsp).in(rooms).disconnectSockets(close);
    },
    async serverSideEmit({ nsp = '/', event, args }) {
      root.of(nsp).serverSideEmit(event, ...args);
    },
    stop: () => client.quit(),
  };
}

async function rustEmitter(url, key) {
  const child = await startEmitter({ REDIS_URL: url, REDIS_KEY: key });
  const run = async (op, command) => assert.equal(await child.send({ op, ...command }), 'ok');
  return {
    label: 'roomcast-emit',
    emit: (command) => run('emit', command),
    socketsJoin: (command) => run('socketsJoin', command),
    socketsLeave: (command) => run('socketsLeave', command),
    disconnectSockets: (command) => run('disconnectSockets', command),
    serverSideEmit: (command) => run('serverSideEmit', command),
    stop: () => child.stop(),
  };
}

let redis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

for (const makeEmitter of [nodeEmitter, rustEmitter]) {
  describe(`${makeEmitter.name} into roomcast and Node servers`, () => {
    const key = uniqueTag('key');
    let nodes;
    let emitter;
    before(async () => {
      nodes = await startNodes([TARGET, 'node', TARGET], { ADAPTER: 'redis', REDIS_URL: redis.url, REDIS_KEY: key });
      emitter = await makeEmitter(redis.url, key);
    });
    after(async () => {
      closeAll();
      await emitter.stop();
      await stopNodes(nodes);
    });

    test('emit reaches a room on every server, except what is excepted', async () => {
      const clients = await clientsOn(nodes, '/', ['websocket']);
      const [room, out] = [uniqueTag('room'), uniqueTag('out')];
      for (const client of clients) await emitWithAck(client.socket, 'join', room);
      await emitWithAck(clients[2].socket, 'join', out);
      const seen = clients.map((client) => record(client.socket));
      const tag = uniqueTag('news');
      const arrivals = clients.slice(0, 2).map((client) => nextTagged(client.socket, 'news', tag));
      await emitter.emit({ to: [room], except: [out], event: 'news', args: [tag, { deep: [1, 2] }] });
      for (const rest of await Promise.all(arrivals)) assert.deepEqual(rest, [{ deep: [1, 2] }]);
      // One room: the room's channel; two rooms: the namespace's.
      const both = uniqueTag('both');
      const all = clients.map((client) => nextTagged(client.socket, 'both', both));
      await emitter.emit({ to: [room, out], event: 'both', args: [both] });
      await Promise.all(all);
      await barrier(clients[0].socket, clients.map((c) => c.socket));
      assert.equal(seen[2].filter(([event]) => event === 'news').length, 0);
      closeAll();
    });

    test('emit reaches another namespace', async () => {
      const clients = await clientsOn(nodes, '/chat', ['websocket']);
      const tag = uniqueTag('chat');
      const arrivals = clients.map((client) => nextTagged(client.socket, 'hi', tag));
      await emitter.emit({ nsp: '/chat', event: 'hi', args: [tag] });
      await Promise.all(arrivals);
      closeAll();
    });

    test('socketsJoin, socketsLeave and disconnectSockets act on every server', async () => {
      const clients = await clientsOn(nodes, '/', ['websocket']);
      const ids = clients.map((client) => client.id);
      const joined = uniqueTag('joined');
      await emitter.socketsJoin({ in: ids.slice(1), rooms: [joined] });
      await fetchUntil(clients[0].socket, { in: [joined] }, ids.slice(1));
      await emitter.socketsLeave({ in: [joined], rooms: [joined] });
      await fetchUntil(clients[0].socket, { in: [joined] }, []);
      const gone = waitFor(clients[1].socket, 'disconnect');
      await emitter.disconnectSockets({ in: [ids[1]] });
      assert.deepEqual((await gone)[0], 'io server disconnect');
      closeAll();
    });

    test('serverSideEmit reaches every server', async () => {
      const clients = await clientsOn(nodes, '/', ['websocket']);
      const tag = uniqueTag('sse');
      const arrivals = clients.map((client) => nextTagged(client.socket, 'fromServer', 'from-emitter'));
      await emitter.serverSideEmit({ event: 'from-emitter', args: [tag] });
      for (const rest of await Promise.all(arrivals)) assert.deepEqual(rest, [tag]);
      closeAll();
    });
  });
}
