// The rooms guide's gateways (roomcast-gateway-rooms), driven by socket.io-client; with
// E2E_TARGET=node, the same tests against its NestJS twin (tests/nest/src/rooms.ts). Where
// roomcast goes further than NestJS (the acknowledgement of a refused message, guards on
// connection), the test says so and runs against roomcast only.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';

import { io } from 'socket.io-client';

import { TARGET, startServer } from '../lib/server.mjs';
import { closeAll, connect, uniqueTag, waitFor, waitUntil } from '../socketio/helpers.mjs';

const NEST = TARGET === 'node';
const ROOMCAST_ONLY = NEST ? 'NestJS cannot do this' : false;

/** Connects to `nsp` (no `hello` in this app: resolves on connect). */
async function join(url, nsp = '/', auth = {}) {
  const socket = io(url + nsp, { forceNew: true, transports: ['websocket'], reconnection: false, auth });
  connected.add(socket);
  await waitFor(socket, 'connect');
  return socket;
}
const connected = new Set();

/** Records the events a socket receives, as `[event, ...args]`. */
function recorder(socket) {
  const seen = [];
  socket.onAny((...args) => seen.push(args));
  return seen;
}

/** An ack, or `timeout` when none comes within `ms`. */
function ackOf(socket, event, ...args) {
  return socket
    .timeout(800)
    .emitWithAck(event, ...args)
    .catch(() => 'timeout');
}

/** A message that both sockets' servers have handled: a roomStats round trip each. */
async function settle(...sockets) {
  for (const socket of sockets) await ackOf(socket, 'roomStats', 'settle');
}

describe('gateway rooms example', () => {
  let server;
  before(async () => {
    server = await startServer('gateway-rooms');
  });
  after(() => server?.stop());
  afterEach(() => {
    for (const socket of connected) socket.disconnect();
    connected.clear();
    closeAll();
  });

  test('joinRoom tells the room but the sender; roomMessage reaches the whole room', async () => {
    const room = uniqueTag('room');
    const alice = await join(server.url);
    const bob = await join(server.url);
    const aliceSeen = recorder(alice);
    const joined = waitFor(alice, 'userJoined');
    alice.emit('joinRoom', { room, user: 'alice' });
    await settle(alice);
    bob.emit('joinRoom', { room, user: 'bob' });
    assert.deepEqual((await joined)[0], { user: 'bob', room });
    const [toAlice, toBob] = [waitFor(alice, 'message'), waitFor(bob, 'message')];
    bob.emit('roomMessage', { room, user: 'bob' });
    for (const [message] of await Promise.all([toAlice, toBob])) {
      assert.deepEqual(message, { user: 'bob', from: bob.id });
    }
    await settle(alice, bob);
    assert.equal(aliceSeen.filter(([event]) => event === 'userJoined').length, 1, 'alice is not told of herself');
  });

  test('roomStats acknowledges with the members; leaveRoom tells the room', async () => {
    const room = uniqueTag('room');
    const [alice, bob] = [await join(server.url), await join(server.url)];
    alice.emit('joinRoom', { room, user: 'alice' });
    bob.emit('joinRoom', { room, user: 'bob' });
    await waitUntil(async () => (await ackOf(alice, 'roomStats', room)).count === 2, 'both members');
    const stats = await ackOf(alice, 'roomStats', room);
    assert.equal(stats.room, room);
    assert.deepEqual([...stats.members].sort(), [alice.id, bob.id].sort());
    const left = waitFor(alice, 'userLeft');
    bob.emit('leaveRoom', room);
    assert.deepEqual((await left)[0], { id: bob.id, room });
    assert.equal((await ackOf(alice, 'roomStats', room)).count, 1);
  });

  test('invalid room names and users get the exception event and change nothing', async () => {
    const socket = await join(server.url);
    for (const body of [
      { room: 'Has Spaces', user: 'alice' },
      { room: '', user: 'alice' },
      { room: 'x'.repeat(65), user: 'alice' },
      { room: 'ok', user: '' },
      { room: 'ok', user: 'u'.repeat(33) },
      { room: 'ok', user: 'bell\u0007' },
    ]) {
      const exception = waitFor(socket, 'exception');
      socket.emit('joinRoom', body);
      const [payload] = await exception;
      assert.equal(payload.status, 'error', JSON.stringify(body));
      const field = body.user === 'alice' ? 'room' : 'user';
      assert.match(JSON.stringify(payload.message), new RegExp(field), JSON.stringify(payload));
    }
    const stats = await ackOf(socket, 'roomStats', 'ok');
    assert.equal(stats.count, 0, 'nobody joined');
  });

  test('kickAll is for admins: others get "Forbidden resource"', async () => {
    const room = uniqueTag('room');
    const member = await join(server.url);
    member.emit('joinRoom', { room, user: 'm' });
    await settle(member);
    const user = await join(server.url);
    const refused = waitFor(user, 'exception');
    user.emit('kickAll', room);
    const [payload] = await refused;
    assert.equal(payload.status, 'error');
    assert.equal(payload.message, 'Forbidden resource');
    assert.equal(member.connected, true);
    const admin = await join(server.url, '/', { role: 'admin' });
    const gone = waitFor(member, 'disconnect');
    admin.emit('kickAll', room);
    assert.equal((await gone)[0], 'io server disconnect');
  });

  test('a refused message gets the same object as its acknowledgement', { skip: ROOMCAST_ONLY }, async () => {
    const user = await join(server.url);
    const ack = await ackOf(user, 'kickAll', 'general');
    assert.equal(ack.status, 'error');
    assert.equal(ack.message, 'Forbidden resource');
    const invalid = await ackOf(user, 'roomStats', 'NOT VALID');
    assert.equal(invalid.status, 'error');
    assert.match(invalid.message, /does not match pattern/);
  });

  test('/chat: announce reaches every socket of the namespace', async () => {
    const [a, b] = [await join(server.url, '/chat', { user: 'a' }), await join(server.url, '/chat', { user: 'b' })];
    const arrivals = [waitFor(a, 'announcement'), waitFor(b, 'announcement')];
    a.emit('announce', 'hello everyone');
    for (const [text] of await Promise.all(arrivals)) assert.equal(text, 'hello everyone');
  });

  test('/chat refuses a connection without auth.user', { skip: ROOMCAST_ONLY }, async () => {
    for (const auth of [{}, { user: '' }, { user: 7 }]) {
      const socket = io(`${server.url}/chat`, { forceNew: true, transports: ['websocket'], reconnection: false, auth });
      connected.add(socket);
      const [error] = await waitFor(socket, 'connect_error');
      assert.equal(error.message, 'unauthorized', JSON.stringify(auth));
    }
  });

  test('the server logs what the gateways do', { skip: ROOMCAST_ONLY }, async () => {
    const room = uniqueTag('room');
    const socket = await join(server.url);
    socket.emit('joinRoom', { room, user: 'logger' });
    await settle(socket);
    await waitUntil(() => server.output().includes(`[RoomGateway] socket ${socket.id} joined room "${room}"`), 'the join logged');
    assert.match(server.output(), /\[WebSocketsController\] RoomGateway subscribed to the "joinRoom" message/);
    assert.doesNotMatch(server.output(), /panicked/);
  });
});
