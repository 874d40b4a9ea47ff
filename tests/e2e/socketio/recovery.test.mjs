// Connection state recovery (RECOVERY=1): a client whose connection drops comes back to the
// same socket, its rooms and data, and gets what was broadcast to it meanwhile, in order; and
// only then. Runs against Node too (E2E_TARGET=node).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';

import { startServer } from '../lib/server.mjs';
import {
  RawClient,
  TRANSPORTS,
  closeAll,
  connect,
  emitWithAck,
  uniqueTag,
  waitFor,
  waitUntil,
} from './helpers.mjs';

const RECONNECT = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };

/** The CONNECT reply of a raw connection to `/` with `auth`: `{ sid, pid? }`. */
async function connectReply(port, auth) {
  const raw = await RawClient.open(port);
  raw.send(auth ? `0${JSON.stringify(auth)}` : '0');
  const reply = await raw.next();
  assert.ok(reply.startsWith('0{'), reply);
  return { raw, reply: JSON.parse(reply.slice(1)) };
}

/** Records the `news` events a socket receives (their first argument). */
function newsOf(socket) {
  const got = [];
  socket.on('news', (tag) => got.push(tag));
  return got;
}

describe('connection state recovery', () => {
  let server;
  before(async () => {
    server = await startServer('probe', { RECOVERY: '1', RECOVERY_MAX_DISCONNECTION_MS: '1500' });
  });
  after(() => server?.stop());
  afterEach(closeAll);

  test('the CONNECT reply carries a pid, and broadcasts carry their offset last', async () => {
    const { raw, reply } = await connectReply(server.port);
    assert.equal(typeof reply.pid, 'string');
    assert.notEqual(reply.pid, reply.sid);
    // hello (a socket.emit) carries an offset too.
    const hello = await raw.next();
    const args = JSON.parse(hello.slice(1));
    assert.equal(args[0], 'hello');
    assert.equal(typeof args.at(-1), 'string');
    raw.send('21["broadcast",{"from":"server","event":"news","args":[1]}]');
    const news = JSON.parse((await raw.next()).slice(1));
    assert.equal(news[0], 'news');
    assert.equal(news[1], 1);
    assert.equal(typeof news[2], 'string', 'the offset');
    assert.equal(await raw.next(), '31[true]', 'acknowledgements carry none');
  });

  for (const { name, transports } of TRANSPORTS.filter((t) => t.name !== 'upgrade')) {
    test(`an abrupt close (${name}) recovers the socket, its rooms and every missed event, in order`, async () => {
      const room = uniqueTag('room');
      const { socket, hello } = await connect(server.url, '/', transports, RECONNECT);
      assert.equal(hello.recovered, false);
      await emitWithAck(socket, 'join', room);
      const { socket: driver } = await connect(server.url, '/', transports);
      const got = newsOf(socket);
      const say = (tag) => emitWithAck(driver, 'broadcast', { from: 'server', to: [room], event: 'news', args: [tag] });
      await say('before');
      await waitUntil(() => got.includes('before'), 'the first event');

      const reconnected = waitFor(socket, 'hello');
      const dropped = waitFor(socket, 'disconnect');
      socket.io.engine.close();
      await dropped;
      await say('missed-1');
      await say('missed-2');
      const [again] = await reconnected;
      assert.equal(again.recovered, true);
      assert.equal(again.id, hello.id);
      assert.equal(socket.id, hello.id);
      assert.equal(socket.recovered, true);
      await say('after');
      await waitUntil(() => got.includes('after'), 'the event after recovery');
      assert.deepEqual(got, ['before', 'missed-1', 'missed-2', 'after']);
      const rooms = await emitWithAck(socket, 'join', []);
      assert.ok(rooms.includes(room), `still in ${room}: ${rooms}`);
    });
  }

  test('an explicit disconnect is not recovered', async () => {
    const { socket, hello } = await connect(server.url, '/', ['websocket']);
    await emitWithAck(socket, 'join', uniqueTag('room'));
    socket.disconnect();
    const again = waitFor(socket, 'hello');
    socket.connect();
    const [second] = await again;
    assert.equal(second.recovered, false);
    assert.notEqual(second.id, hello.id);
  });

  test('a kicked socket is not recovered', async () => {
    const { socket, hello } = await connect(server.url, '/', ['websocket']);
    const gone = waitFor(socket, 'disconnect');
    await emitWithAck(socket, 'kick', { in: [hello.id] });
    assert.equal((await gone)[0], 'io server disconnect');
    const again = waitFor(socket, 'hello');
    socket.connect();
    const [second] = await again;
    assert.equal(second.recovered, false);
    assert.notEqual(second.id, hello.id);
  });

  test('an expired session is not recovered', async () => {
    const { socket, hello } = await connect(server.url, '/', ['websocket']);
    const dropped = waitFor(socket, 'disconnect');
    socket.io.engine.close();
    await dropped;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const again = waitFor(socket, 'hello');
    socket.connect();
    const [second] = await again;
    assert.equal(second.recovered, false);
    assert.notEqual(second.id, hello.id);
  });

  test('a forged or unknown pid and offset give a fresh socket', async () => {
    const { raw: victim, reply } = await connectReply(server.port);
    const hello = JSON.parse((await victim.next()).slice(1));
    const offset = hello.at(-1);
    for (const auth of [
      { pid: 'forged-pid-forged-pid', offset },
      { pid: reply.pid, offset },
      { pid: reply.sid, offset },
      { pid: 42, offset: 1 },
      { pid: reply.pid },
    ]) {
      const { reply: fresh } = await connectReply(server.port, auth);
      assert.notEqual(fresh.sid, reply.sid, JSON.stringify(auth));
    }
    assert.ok(victim.isOpen, 'the victim keeps its socket');
  });
});

describe('without recovery', () => {
  let server;
  before(async () => {
    server = await startServer('probe');
  });
  after(() => server?.stop());
  afterEach(closeAll);

  test('no pid, no offsets, and a reconnection is a new socket', async () => {
    const { raw, reply } = await connectReply(server.port);
    assert.deepEqual(Object.keys(reply), ['sid']);
    const hello = JSON.parse((await raw.next()).slice(1));
    assert.equal(hello.length, 2);
  });
});
