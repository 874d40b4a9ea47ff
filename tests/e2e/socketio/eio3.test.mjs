// Socket.IO v2 clients (socket.io-client 2.x over Engine.IO v3) with ALLOW_EIO3=1 (Node's
// allowEIO3): every transport, the namespace query as auth, events and acknowledgements both
// ways with binary, broadcasts, refusals, the reversed heartbeat and the v3 polling framing.
// The same client code runs against roomcast and Node.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import WebSocket from 'ws';

import { startServer } from '../lib/server.mjs';
import { DEADLINE_MS, waitUntil } from '../lib/util.mjs';

const ioV2 = createRequire(import.meta.url)('socket.io-client-v2');

const TRANSPORTS = [
  { name: 'websocket', transports: ['websocket'] },
  { name: 'polling', transports: ['polling'] },
  { name: 'upgrade', transports: ['polling', 'websocket'] },
];

const clients = new Set();

/** A v2 client on `nsp`; resolves with the socket and its `hello` once connected. */
function connectV2(url, nsp, transports, opts = {}) {
  const socket = ioV2(url + nsp, { transports, forceNew: true, reconnection: false, ...opts });
  clients.add(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no hello on ${nsp}`)), DEADLINE_MS);
    socket.once('hello', (hello) => {
      clearTimeout(timer);
      resolve({ socket, hello });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(Object.assign(new Error('error event'), { data: error }));
    });
  });
}

/** `emit` with an acknowledgement (v2 clients have no emitWithAck); resolves with its arguments. */
function ask(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), DEADLINE_MS);
    socket.emit(event, ...args, (...reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

for (const target of ['roomcast', 'node']) {
  describe(`Socket.IO v2 clients (${target})`, () => {
    let server;
    before(async () => {
      server = await startServer('probe', { ALLOW_EIO3: '1', PING_INTERVAL: '300', PING_TIMEOUT: '300' }, target);
    });
    after(() => server?.stop());
    afterEach(() => {
      for (const socket of clients) socket.close();
      clients.clear();
    });

    for (const { name, transports } of TRANSPORTS) {
      it(`connect with query auth, echo binary, acks both ways, heartbeats over ${name}`, async () => {
        const root = await connectV2(server.url, '/', transports);
        assert.deepEqual(root.hello, { id: root.socket.id, nsp: '/', auth: {}, recovered: false });
        const { socket, hello } = await connectV2(server.url, '/chat', transports, { query: { token: 'abc' } });
        assert.deepEqual(hello.auth, { token: 'abc' });
        assert.equal(hello.nsp, '/chat');
        const [text, blob] = await ask(socket, 'echo', 'x', Buffer.from([1, 2, 3]));
        assert.equal(text, 'x');
        assert.deepEqual(Buffer.from(blob), Buffer.from([1, 2, 3]));
        socket.on('q', (value, callback) => callback(value + 1));
        const [reply] = await ask(socket, 'requestAck', { event: 'q', args: [41], timeoutMs: 2000 });
        assert.deepEqual(reply, { err: null, resp: [42] });
        // Several heartbeats (300 ms + 300 ms): the client pings, the server answers.
        await sleep(1500);
        assert.equal(socket.connected, true);
        assert.deepEqual(await ask(socket, 'echo', 'still'), ['still']);
      });
    }

    it('broadcasts reach v2 clients in rooms, beside a v4 client', async () => {
      const { socket: a } = await connectV2(server.url, '/', ['websocket']);
      const { socket: b } = await connectV2(server.url, '/', ['polling']);
      await ask(b, 'join', 'room-v2');
      const got = new Promise((resolve) => b.once('news', (...args) => resolve(args)));
      await ask(a, 'broadcast', { from: 'server', to: ['room-v2'], event: 'news', args: [1, 'two'] });
      assert.deepEqual(await got, [1, 'two']);
    });

    it('a refused namespace gives the v2 error event with the message', async () => {
      const error = await connectV2(server.url, '/admin', ['websocket'], { query: { token: 'wrong' } }).then(
        () => null,
        (e) => e.data,
      );
      assert.equal(error, 'unauthorized');
    });

    it('a socket the server disconnects sees io server disconnect', async () => {
      const { socket } = await connectV2(server.url, '/', ['websocket']);
      const gone = new Promise((resolve) => socket.once('disconnect', resolve));
      await ask(socket, 'kick', { in: [socket.id] });
      assert.equal(await gone, 'io server disconnect');
    });

    it('answers a v3 polling handshake in v3 framing', async () => {
      const res = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling`);
      const body = await res.text();
      const match = /^(\d+):0(\{.*\})/.exec(body);
      assert.ok(match, body);
      const open = JSON.parse(match[2]);
      assert.equal(Number(match[1]), 1 + match[2].length);
      assert.deepEqual(Object.keys(open).slice(0, 4), ['sid', 'upgrades', 'pingInterval', 'pingTimeout']);
      // Then the CONNECT of `/`, unasked, and the probe's hello, each with its length.
      const poll = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling&sid=${open.sid}`);
      const payload = await poll.text();
      const framed = /^2:40(\d+):(42\["hello",.*)$/.exec(payload);
      assert.ok(framed, payload);
      assert.equal(Number(framed[1]), framed[2].length);
    });

    it('closes a v3 session whose client stops pinging, and one that sends a pong', async () => {
      const silent = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=3&transport=websocket`);
      let silentClosed = false;
      silent.on('close', () => (silentClosed = true));
      silent.on('error', () => {});
      await waitUntil(() => silentClosed, 'the silent v3 session closed', 3000);

      const wrong = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=3&transport=websocket`);
      let wrongClosed = false;
      wrong.on('close', () => (wrongClosed = true));
      wrong.on('error', () => {});
      await new Promise((resolve) => wrong.once('open', resolve));
      wrong.send('3');
      await waitUntil(() => wrongClosed, 'the session that sent a pong closed', 2000);
    });
  });
}

describe('without ALLOW_EIO3', () => {
  let server;
  before(async () => {
    server = await startServer('probe');
  });
  after(() => server?.stop());

  it('refuses an Engine.IO v3 handshake', async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 5, message: 'Unsupported protocol version' });
  });
});

