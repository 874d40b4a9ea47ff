// The Admin UI across a cluster: a roomcast probe and a Node probe (Node's `instrument()`) on one
// Redis (classic adapter), each with the Admin UI on. A UI connected to either server sees both
// servers' stats and sockets, and acts on sockets wherever they are, as with Node alone.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { io } from 'socket.io-client';

import { TARGET } from '../lib/server.mjs';
import { startRedis } from '../lib/redis.mjs';
import { DEADLINE_MS, closeAll, clientsOn, startNodes, stopNodes, uniqueTag, waitFor, waitUntil } from './helpers.mjs';

const admins = new Set();

/** A UI-like admin socket on `node`, recording its events. */
async function adminOn(node) {
  const socket = io(`${node.url}/admin-ui`, { forceNew: true, reconnection: false, timeout: DEADLINE_MS, auth: {} });
  socket.events = [];
  socket.onAny((event, ...args) => socket.events.push([event, ...args]));
  admins.add(socket);
  await waitFor(socket, 'connect');
  return socket;
}

/** The first recorded `event` that `match` accepts, waiting for it. */
function received(socket, event, match = () => true, ms = DEADLINE_MS) {
  return waitUntil(
    () => socket.events.find(([name, ...args]) => name === event && match(...args))?.slice(1),
    `"${event}" on the admin socket`,
    ms,
  );
}

describe(`Admin UI on a cluster: ${TARGET} and Node probes on one Redis`, () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    const env = { ADAPTER: 'redis', REDIS_URL: redis.url, REDIS_KEY: uniqueTag('admin'), ADMIN_UI: '1', METRICS: '1' };
    nodes = [];
    for (const [target, id] of [[TARGET, 'server-a'], ['node', 'server-b']]) {
      nodes.push(...(await startNodes([target], { ...env, ADMIN_UI_SERVER_ID: id })));
    }
  });
  after(async () => {
    if (nodes) await stopNodes(nodes);
    await redis?.stop();
  });
  afterEach(() => {
    for (const socket of admins) socket.disconnect();
    admins.clear();
    closeAll();
  });

  for (const index of [0, 1]) {
    it(`a UI on ${index === 0 ? TARGET : 'Node'} sees both servers and acts on the other's sockets`, async () => {
      const here = nodes[index];
      const [, there] = await clientsOn([here, nodes[1 - index]], '/chat', ['websocket']);
      const admin = await adminOn(here);

      const [sockets] = await received(admin, "all_sockets", () => true, 4 * DEADLINE_MS);
      const remote = sockets.find((socket) => socket.id === there.id);
      assert.ok(remote, `the other server's socket in ${JSON.stringify(sockets.map((s) => s.id))}`);
      assert.equal(remote.nsp, '/chat');
      assert.ok(remote.rooms.includes(there.id));

      const servers = new Set();
      await waitUntil(() => {
        for (const [event, stats] of admin.events) if (event === 'server_stats') servers.add(stats.serverId);
        return servers.size === 2;
      }, `server_stats from both servers (so far ${[...servers]})`, 3 * DEADLINE_MS);

      const room = uniqueTag('room');
      admin.emit('join', '/chat', room, there.id);
      const announced = waitFor(there.socket, 'announce');
      await waitUntil(async () => {
        admin.emit('emit', '/chat', room, 'announce', room);
        return Promise.race([announced, new Promise((resolve) => setTimeout(resolve, 100, false))]);
      }, 'the announce to the joined room');
      assert.deepEqual(await announced, [room]);

      const kicked = waitFor(there.socket, 'disconnect');
      admin.emit('_disconnect', '/chat', false, there.id);
      assert.equal((await kicked)[0], 'io server disconnect');
    });
  }

  it(`${TARGET}'s metrics count the adapter's requests`, async () => {
    const admin = await adminOn(nodes[0]);
    await received(admin, 'all_sockets');
    const text = await (await fetch(`${nodes[0].url}/metrics`)).text();
    const requests = text.match(/^roomcast_adapter_requests_total\{request="fetchSockets"\} (\d+)$/m);
    assert.ok(requests && Number(requests[1]) >= 1, text);
    assert.match(text, /^roomcast_adapter_request_seconds_count\{request="fetchSockets"\} [1-9]\d*$/m);
    // Every server answered: no request ended on its timeout.
    assert.doesNotMatch(text, /^roomcast_adapter_request_timeouts_total\{request="fetchSockets"\} [1-9]/m);
  });
});
