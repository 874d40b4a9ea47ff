// Namespace-wide server operations: fetchSockets, socketsJoin / socketsLeave, disconnectSockets
// (`kick`), and the disconnect reasons a client sees.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  RawClient,
  TRANSPORTS,
  closeAll,
  connect,
  connectMany,
  connectVia,
  emitWithAck,
  freshNamespace,
  sentinel,
  waitFor,
  waitUntil,
} from './helpers.mjs';

let server;
before(async () => {
  server = await startServer('probe');
});
after(() => server?.stop());
afterEach(closeAll);

const ids = (...sockets) => sockets.map((s) => s.id).sort();

/** Four sockets on a fresh namespace: A in r1, B in r1 and r2, C in r2, D in no room. */
async function fourInRooms(transports) {
  const nsp = freshNamespace('api');
  const [a, b, c, d] = await connectMany(server.url, nsp, transports, 4);
  await emitWithAck(a, 'join', ['r1']);
  await emitWithAck(b, 'join', ['r1', 'r2']);
  await emitWithAck(c, 'join', ['r2']);
  return { a, b, c, d };
}

/** A Map, filled as they disconnect, from the ids of `sockets` to their disconnect reason. */
function disconnectReasons(sockets) {
  const reasons = new Map();
  for (const socket of sockets) {
    const id = socket.id;
    socket.on('disconnect', (reason) => reasons.set(id, reason));
  }
  return reasons;
}

for (const { name, transports } of TRANSPORTS) {
  describe(`server API over ${name}`, () => {
    it('fetch lists the sockets of the namespace, or of rooms given with `in`', async () => {
      const { a, b, c, d } = await fourInRooms(transports);
      assert.deepEqual(await emitWithAck(a, 'fetch', {}), ids(a, b, c, d));
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: [] }), ids(a, b, c, d));
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: ['r1'] }), ids(a, b));
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: 'r2' }), ids(b, c));
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: ['r1', 'r2'] }), ids(a, b, c));
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: [d.id] }), ids(d));
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: ['nobody'] }), []);
    });

    it('socketsJoin adds the sockets in `in` to rooms', async () => {
      const { a, b, c, d } = await fourInRooms(transports);
      assert.equal(await emitWithAck(d, 'socketsJoin', { in: ['r1'], rooms: ['x', 'y'] }), true);
      assert.deepEqual(await emitWithAck(d, 'fetch', { in: ['x'] }), ids(a, b));
      assert.deepEqual(await emitWithAck(d, 'fetch', { in: ['y'] }), ids(a, b));
      // The sockets see the rooms as their own.
      assert.deepEqual(await emitWithAck(a, 'join', []), ['r1', 'x', 'y', a.id].sort());
      assert.deepEqual(await emitWithAck(c, 'rooms'), ['r1', 'r2', 'x', 'y']);
    });

    it('socketsJoin without `in` adds every socket of the namespace', async () => {
      const { a, b, c, d } = await fourInRooms(transports);
      assert.equal(await emitWithAck(a, 'socketsJoin', { rooms: ['all'] }), true);
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: ['all'] }), ids(a, b, c, d));
    });

    it('socketsLeave removes the sockets in `in` from rooms', async () => {
      const { a, b, c } = await fourInRooms(transports);
      assert.equal(await emitWithAck(a, 'socketsLeave', { in: ['r2'], rooms: ['r1'] }), true);
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: ['r1'] }), ids(a));
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: ['r2'] }), ids(b, c));
    });

    it('socketsLeave without `in` empties the rooms, which then vanish', async () => {
      const { a } = await fourInRooms(transports);
      assert.equal(await emitWithAck(a, 'socketsLeave', { rooms: ['r2'] }), true);
      assert.deepEqual(await emitWithAck(a, 'fetch', { in: ['r2'] }), []);
      assert.deepEqual(await emitWithAck(a, 'rooms'), ['r1']);
    });

    it('kick with `in` disconnects only those sockets, with "io server disconnect"', async () => {
      const { a, b, c, d } = await fourInRooms(transports);
      // A's connection also carries a socket on `/`, which must stay connected.
      const { socket: aRoot } = await connectVia(a.io, '/');
      const [aId, bId] = [a.id, b.id];
      const reasons = disconnectReasons([a, b, c, d, aRoot]);
      let managerClosed = false;
      a.io.on('close', () => {
        managerClosed = true;
      });

      assert.equal(await emitWithAck(c, 'kick', { in: ['r1'] }), true);
      await waitUntil(() => reasons.size === 2, 'two disconnections');
      await sentinel(c, [c, d]);
      assert.deepEqual(
        reasons,
        new Map([
          [aId, 'io server disconnect'],
          [bId, 'io server disconnect'],
        ]),
      );
      assert.deepEqual(await emitWithAck(c, 'fetch', {}), ids(c, d));
      assert.equal(aRoot.connected, true);
      assert.deepEqual(await emitWithAck(aRoot, 'echo', 'alive'), 'alive');
      assert.equal(managerClosed, false);
    });

    it('kick without `in` disconnects the whole namespace, sender included', async () => {
      const { a, b, c, d } = await fourInRooms(transports);
      const { socket: other } = await connect(server.url, '/', transports);
      const sockets = [a, b, c, d];
      const expected = new Map(sockets.map((s) => [s.id, 'io server disconnect']));
      const reasons = disconnectReasons([...sockets, other]);
      assert.equal(await emitWithAck(a, 'kick', {}), true);
      await waitUntil(() => reasons.size === 4, 'four disconnections');
      assert.deepEqual(reasons, expected);
      assert.deepEqual(await emitWithAck(other, 'echo', 'alive'), 'alive');
    });

    it('kick with close:true closes the whole connection of each kicked socket', async () => {
      const { a, b, c, d } = await fourInRooms(transports);
      const mgr = a.io;
      const { socket: aRoot } = await connectVia(mgr, '/');
      const { socket: aChat } = await connectVia(mgr, '/chat');
      const expected = new Map([a, aRoot, aChat].map((s) => [s.id, 'io server disconnect']));
      const reasons = disconnectReasons([a, aRoot, aChat, c, d]);
      const managerClosed = waitFor(mgr, 'close');

      assert.equal(await emitWithAck(c, 'kick', { in: [a.id], close: true }), true);
      await managerClosed;
      await waitUntil(() => reasons.size === 3, 'three disconnections');
      await sentinel(c, [c, d]);
      assert.deepEqual(reasons, expected);
      assert.deepEqual(await emitWithAck(c, 'fetch', { in: ['r1'] }), [b.id]);
    });
  });
}

// What the kicked connection receives, seen through a raw WebSocket.
describe('kick on the wire', () => {
  it('close:false sends DISCONNECT for that namespace and keeps the connection', async () => {
    const nsp = freshNamespace('wire');
    const raw = await RawClient.open(server.port);
    await raw.connect('/');
    const sid = await raw.connect(nsp);
    const { socket: driver } = await connect(server.url, nsp, ['websocket']);
    assert.equal(await emitWithAck(driver, 'kick', { in: [sid] }), true);
    assert.equal(await raw.next(), `1${nsp},`);
    raw.send('21["echo","alive"]');
    assert.equal(await raw.next(), '31["alive"]');
  });

  // `Client._disconnect` (packages/socket.io/lib/client.ts) disconnects every socket of the
  // connection, each sending its DISCONNECT, then closes the connection once they are flushed.
  it('close:true sends DISCONNECT for every namespace of the connection, then closes it', async () => {
    const nsp = freshNamespace('wire');
    const raw = await RawClient.open(server.port);
    await raw.connect('/');
    const sid = await raw.connect(nsp);
    const { socket: driver } = await connect(server.url, nsp, ['websocket']);
    assert.equal(await emitWithAck(driver, 'kick', { in: [sid], close: true }), true);
    await raw.waitClosed();
    assert.deepEqual(raw.frames.sort(), ['1', `1${nsp},`]);
    assert.deepEqual(raw.engineFrames, []);
  });
});

describe('disconnect reasons', () => {
  for (const { name, transports } of TRANSPORTS) {
    it(`a client disconnect() is "io client disconnect" and the server forgets the socket (${name})`, async () => {
      const nsp = freshNamespace('bye');
      const [leaving, staying] = await connectMany(server.url, nsp, transports, 2);
      const leavingId = leaving.id;
      const disconnected = waitFor(leaving, 'disconnect');
      leaving.disconnect();
      const [reason] = await disconnected;
      assert.equal(reason, 'io client disconnect');
      await waitUntil(
        async () => (await emitWithAck(staying, 'fetch', {})).join() === staying.id,
        `${leavingId} to leave the namespace`,
      );
    });

    it(`a kick is "io server disconnect" (${name})`, async () => {
      const { socket } = await connect(server.url, freshNamespace('kicked'), transports);
      const disconnected = waitFor(socket, 'disconnect');
      assert.equal(await emitWithAck(socket, 'kick', {}), true);
      const [reason] = await disconnected;
      assert.equal(reason, 'io server disconnect');
    });
  }
});
