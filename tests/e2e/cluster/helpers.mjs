// The cluster tests: several probes (roomcast and Node side by side) on one Redis, driven by the
// official socket.io-client, and the checks every cluster configuration runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../lib/server.mjs';
import {
  DEADLINE_MS,
  closeAll,
  connect,
  emitWithAck,
  record,
  uniqueTag,
  waitFor,
  waitPastConnectErrors,
  waitUntil,
} from '../socketio/helpers.mjs';

export { DEADLINE_MS, closeAll, connect, emitWithAck, record, uniqueTag, waitFor, waitPastConnectErrors, waitUntil };

/**
 * Starts one probe per entry of `targets` (`roomcast` or `node`) with `env` (ADAPTER,
 * REDIS_URL, …), in order, each ready before the next starts.
 */
export async function startNodes(targets, env) {
  const nodes = [];
  for (const target of targets) nodes.push(await startServer('probe', env, target));
  return nodes;
}

/** Stops every node. */
export async function stopNodes(nodes) {
  await Promise.all(nodes.map((node) => node.stop()));
}

/** Connects one client to `nsp` on each node; resolves with `{ socket, id, node }` per node. */
export async function clientsOn(nodes, nsp, transports) {
  const clients = [];
  for (const node of nodes) {
    const { socket, hello } = await connect(node.url, nsp, transports);
    clients.push({ socket, id: hello.id, node });
  }
  return clients;
}

/** Resolves with the next `event` whose first argument is `tag`, rejects after the deadline. */
export function nextTagged(socket, event, tag, ms = DEADLINE_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, onEvent);
      reject(new Error(`${socket.id}: no "${event}" ${tag} within ${ms} ms`));
    }, ms);
    const onEvent = (first, ...rest) => {
      if (first !== tag) return;
      clearTimeout(timer);
      socket.off(event, onEvent);
      resolve(rest);
    };
    socket.on(event, onEvent);
  });
}

/**
 * Barrier for negative checks across the cluster: a broadcast of a fresh tag from `driver`'s
 * node to the whole namespace, awaited by every one of `receivers`. Each server keeps the
 * order of what it publishes, and of what it writes to one connection, so once the tag has
 * arrived, whatever `driver`'s node broadcast before it has arrived too.
 */
export async function barrier(driver, receivers) {
  const tag = uniqueTag('barrier');
  const arrivals = receivers.map((socket) => nextTagged(socket, 'barrier', tag));
  await emitWithAck(driver, 'broadcast', { from: 'server', event: 'barrier', args: [tag] });
  await Promise.all(arrivals);
}

/** The sorted ids `fetch` reports, once it reports `expected` (rooms join through Redis). */
export async function fetchUntil(socket, request, expected) {
  const want = [...expected].sort();
  let last;
  await waitUntil(async () => {
    last = await emitWithAck(socket, 'fetch', request);
    return JSON.stringify(last) === JSON.stringify(want);
  }, () => `fetch ${JSON.stringify(request)} to give ${want.join(',')} (last: ${JSON.stringify(last)})`);
  return last;
}

/**
 * Every contract operation across the nodes of a cluster, each entered by every node in turn.
 * `start()` resolves with the nodes; they are stopped after the suite. `settle(room, members)`
 * waits until a room just joined on `members` nodes receives through Redis (the sharded
 * adapter's room channels are subscribed after the join); it does nothing by default.
 */
export function clusterSuite(label, start, transportsList = [['websocket']], settle = async () => {}) {
  for (const transports of transportsList) {
    describe(`${label} (${transports.join('+')})`, () => {
      let nodes;
      let clients;
      const nsp = '/';

      before(async () => {
        nodes = await start();
      });
      after(async () => {
        closeAll();
        await stopNodes(nodes);
      });

      const fresh = async () => {
        closeAll();
        clients = await clientsOn(nodes, nsp, transports);
        return clients;
      };

      test('a broadcast to a room reaches its members on every node, whichever node sends it', async () => {
        await fresh();
        const room = uniqueTag('room');
        for (const client of clients) await emitWithAck(client.socket, 'join', room);
        await settle(room, clients.length);
        for (const entry of clients) {
          const tag = uniqueTag('news');
          const arrivals = clients.map((c) => nextTagged(c.socket, 'news', tag));
          await emitWithAck(entry.socket, 'broadcast', { from: 'server', to: [room], event: 'news', args: [tag, { n: 1 }] });
          for (const rest of await Promise.all(arrivals)) assert.deepEqual(rest, [{ n: 1 }]);
        }
      });

      test('socket.broadcast and socket.to(room) leave the sender out, on every node', async () => {
        await fresh();
        const room = uniqueTag('room');
        for (const client of clients) await emitWithAck(client.socket, 'join', room);
        await settle(room, clients.length);
        for (const [i, sender] of clients.entries()) {
          const others = clients.filter((_, j) => j !== i);
          const seen = record(sender.socket);
          for (const to of [[], [room]]) {
            const tag = uniqueTag('b');
            const arrivals = others.map((c) => nextTagged(c.socket, 'b', tag));
            await emitWithAck(sender.socket, 'broadcast', { from: 'socket', to, event: 'b', args: [tag] });
            await Promise.all(arrivals);
          }
          await barrier(sender.socket, clients.map((c) => c.socket));
          assert.deepEqual(seen.filter(([event]) => event === 'b'), []);
          sender.socket.offAny();
        }
      });

      test('except and unions of rooms reach each socket once, across nodes', async () => {
        await fresh();
        const [a, b, c] = [uniqueTag('a'), uniqueTag('b'), uniqueTag('c')];
        // Node 0's client in a and b, node 1's in b, node 2's in c.
        await emitWithAck(clients[0].socket, 'join', [a, b]);
        await emitWithAck(clients[1].socket, 'join', b);
        await emitWithAck(clients[2].socket, 'join', c);
        for (const entry of clients) {
          const seen = clients.map((client) => record(client.socket));
          const union = uniqueTag('u');
          await Promise.all([
            nextTagged(clients[0].socket, 'u', union),
            nextTagged(clients[1].socket, 'u', union),
            emitWithAck(entry.socket, 'broadcast', { from: 'server', to: [a, b], event: 'u', args: [union] }),
          ]);
          const except = uniqueTag('x');
          await Promise.all([
            nextTagged(clients[2].socket, 'x', except),
            emitWithAck(entry.socket, 'broadcast', { from: 'server', except: [b], event: 'x', args: [except] }),
          ]);
          await barrier(entry.socket, clients.map((client) => client.socket));
          const count = (events, name) => events.filter(([event]) => event === name).length;
          assert.deepEqual(seen.map((events) => count(events, 'u')), [1, 1, 0]);
          assert.deepEqual(seen.map((events) => count(events, 'x')), [0, 0, 1]);
          for (const client of clients) client.socket.offAny();
        }
      });

      test('fetchSockets describes the sockets of every node', async () => {
        await fresh();
        const room = uniqueTag('room');
        await emitWithAck(clients[1].socket, 'join', room);
        await emitWithAck(clients[2].socket, 'join', room);
        const all = clients.map((c) => c.id).sort();
        for (const entry of clients) {
          await fetchUntil(entry.socket, {}, all);
          await fetchUntil(entry.socket, { in: [room] }, [clients[1].id, clients[2].id]);
        }
      });

      test('socketsJoin and socketsLeave move sockets on every node', async () => {
        await fresh();
        for (const entry of clients) {
          const joined = uniqueTag('joined');
          assert.equal(await emitWithAck(entry.socket, 'socketsJoin', { rooms: [joined] }), true);
          await fetchUntil(entry.socket, { in: [joined] }, clients.map((c) => c.id));
          // Each node sees its own sockets in the room.
          for (const client of clients) {
            await waitUntil(async () => (await emitWithAck(client.socket, 'rooms')).includes(joined), `${joined} on ${client.node.target}`);
          }
          assert.equal(await emitWithAck(entry.socket, 'socketsLeave', { in: [joined], rooms: [joined] }), true);
          await fetchUntil(entry.socket, { in: [joined] }, []);
        }
      });

      test('serverSideEmit reaches the other nodes, not the sender', async () => {
        await fresh();
        for (const [i, entry] of clients.entries()) {
          const tag = uniqueTag('sse');
          const others = clients.filter((_, j) => j !== i);
          const seen = record(entry.socket);
          const arrivals = others.map((c) => nextTagged(c.socket, 'fromServer', 'ping-servers'));
          assert.equal(await emitWithAck(entry.socket, 'serverSideEmit', { event: 'ping-servers', args: [tag, 2] }), true);
          for (const rest of await Promise.all(arrivals)) assert.deepEqual(rest, [tag, 2]);
          await barrier(entry.socket, clients.map((c) => c.socket));
          assert.deepEqual(seen.filter(([event]) => event === 'fromServer'), []);
          entry.socket.offAny();
        }
      });

      test('a broadcast with acknowledgements collects every socket of every node', async () => {
        await fresh();
        const room = uniqueTag('room');
        for (const client of clients) {
          await emitWithAck(client.socket, 'join', room);
          client.socket.on('question', (n, ack) => ack(`${client.id}:${n}`));
        }
        for (const entry of clients) {
          const reply = await emitWithAck(entry.socket, 'broadcastWithAck', { to: [room], event: 'question', args: [7], timeoutMs: 2000 });
          assert.equal(reply.err, null);
          assert.deepEqual([...reply.responses].sort(), clients.map((c) => `${c.id}:7`).sort());
        }
        const nobody = await emitWithAck(clients[0].socket, 'broadcastWithAck', { to: [uniqueTag('empty')], event: 'question', args: [1], timeoutMs: 2000 });
        assert.deepEqual(nobody, { err: null, responses: [] });
      });

      test('disconnectSockets disconnects sockets on every node', async () => {
        await fresh();
        const room = uniqueTag('room');
        await emitWithAck(clients[1].socket, 'join', room);
        await emitWithAck(clients[2].socket, 'join', room);
        const gone = [clients[1], clients[2]].map((c) => waitFor(c.socket, 'disconnect'));
        assert.equal(await emitWithAck(clients[0].socket, 'kick', { in: [room] }), true);
        for (const [reason] of await Promise.all(gone)) assert.equal(reason, 'io server disconnect');
        assert.equal(clients[0].socket.connected, true);
      });

      test('each node lists the rooms of its own sockets', async () => {
        await fresh();
        const rooms = clients.map(() => uniqueTag('own'));
        for (const [i, client] of clients.entries()) await emitWithAck(client.socket, 'join', rooms[i]);
        for (const [i, client] of clients.entries()) {
          const listed = await emitWithAck(client.socket, 'rooms');
          assert.ok(listed.includes(rooms[i]), `${rooms[i]} in ${listed}`);
          for (const [j, other] of rooms.entries()) if (j !== i) assert.ok(!listed.includes(other));
        }
      });
    });
  }
}
