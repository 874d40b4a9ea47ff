// Rooms: `join` / `leave` acks, the namespace's room list, rooms disappearing when empty, and
// rooms being scoped to their namespace.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  TRANSPORTS,
  closeAll,
  connect,
  connectMany,
  connectVia,
  emitWithAck,
  freshNamespace,
  manager,
  uniqueTag,
  waitUntil,
} from './helpers.mjs';

let server;
before(async () => {
  server = await startServer('probe');
});
after(() => server?.stop());
afterEach(closeAll);

for (const { name, transports } of TRANSPORTS) {
  describe(`rooms over ${name}`, () => {
    it('join takes a string or an array and acks the sorted rooms, own id included', async () => {
      const { socket } = await connect(server.url, freshNamespace('join'), transports);
      assert.deepEqual(await emitWithAck(socket, 'join', 'b'), ['b', socket.id].sort());
      assert.deepEqual(
        await emitWithAck(socket, 'join', ['d', 'a', 'c']),
        ['a', 'b', 'c', 'd', socket.id].sort(),
      );
      // Joining a room twice changes nothing.
      assert.deepEqual(
        await emitWithAck(socket, 'join', ['a']),
        ['a', 'b', 'c', 'd', socket.id].sort(),
      );
    });

    it('leave removes one room and acks the remaining ones', async () => {
      const { socket } = await connect(server.url, freshNamespace('leave'), transports);
      await emitWithAck(socket, 'join', ['a', 'b']);
      assert.deepEqual(await emitWithAck(socket, 'leave', 'a'), ['b', socket.id].sort());
      // Leaving a room the socket is not in changes nothing.
      assert.deepEqual(await emitWithAck(socket, 'leave', 'zzz'), ['b', socket.id].sort());
    });

    it('rooms lists the rooms of the namespace without id-rooms', async () => {
      const nsp = freshNamespace('list');
      const [a, b] = await connectMany(server.url, nsp, transports, 2);
      assert.deepEqual(await emitWithAck(a, 'rooms'), []);
      await emitWithAck(a, 'join', ['x', 'y']);
      await emitWithAck(b, 'join', ['z', 'y']);
      assert.deepEqual(await emitWithAck(b, 'rooms'), ['x', 'y', 'z']);
    });

    it('a room vanishes when its last member leaves', async () => {
      const nsp = freshNamespace('vanish');
      const [a, b] = await connectMany(server.url, nsp, transports, 2);
      await emitWithAck(a, 'join', ['shared', 'solo']);
      await emitWithAck(b, 'join', 'shared');
      await emitWithAck(a, 'leave', 'solo');
      assert.deepEqual(await emitWithAck(a, 'rooms'), ['shared']);
      await emitWithAck(a, 'leave', 'shared');
      assert.deepEqual(await emitWithAck(a, 'rooms'), ['shared']);
      await emitWithAck(b, 'leave', 'shared');
      assert.deepEqual(await emitWithAck(a, 'rooms'), []);
    });

    it('a room vanishes when its last member disconnects', async () => {
      const nsp = freshNamespace('gone');
      const [a, b] = await connectMany(server.url, nsp, transports, 2);
      await emitWithAck(a, 'join', ['shared', 'solo']);
      await emitWithAck(b, 'join', 'shared');
      assert.deepEqual(await emitWithAck(b, 'rooms'), ['shared', 'solo']);
      a.disconnect();
      // The disconnection reaches the server on another connection: poll, bounded.
      await waitUntil(
        async () => (await emitWithAck(b, 'rooms')).join() === 'shared',
        'room "solo" to vanish',
      );
    });

    it('rooms belong to one namespace', async () => {
      const room = uniqueTag('room');
      const mgr = manager(server.url, transports);
      const { socket: root } = await connectVia(mgr, '/');
      const { socket: chat } = await connectVia(mgr, '/chat');
      await emitWithAck(chat, 'join', room);
      assert.ok((await emitWithAck(chat, 'rooms')).includes(room));
      assert.ok(!(await emitWithAck(root, 'rooms')).includes(room));
      assert.deepEqual(await emitWithAck(root, 'fetch', { in: [room] }), []);
      assert.deepEqual(await emitWithAck(chat, 'fetch', { in: [room] }), [chat.id]);
    });
  });
}
