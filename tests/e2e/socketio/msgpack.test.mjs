// The msgpack parser (PARSER=msgpack; Node's `parser: require("socket.io-msgpack-parser")`):
// the official client with the same parser, every packet type, binary inline without
// attachments, broadcasts, acknowledgements both ways, refusals, and malformed packets.
// The same client code runs against roomcast and Node.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import msgpackParser from 'socket.io-msgpack-parser';
import WebSocket from 'ws';
import { encode } from 'notepack.io';

import { startServer } from '../lib/server.mjs';
import { TRANSPORTS, closeAll, connect, emitWithAck, waitFor, waitUntil } from './helpers.mjs';

const opts = { parser: msgpackParser };

for (const target of ['roomcast', 'node']) {
  describe(`msgpack parser (${target})`, () => {
    let server;
    before(async () => {
      server = await startServer('probe', { PARSER: 'msgpack' }, target);
    });
    after(() => server?.stop());
    afterEach(closeAll);

    for (const { name, transports } of TRANSPORTS) {
      it(`connects, echoes every kind of value and binary inline over ${name}`, async () => {
        const { socket, hello } = await connect(server.url, '/chat', transports, opts);
        assert.deepEqual(hello, { id: socket.id, nsp: '/chat', auth: {}, recovered: false });
        const values = [1, -2, 3.5, 'text', true, null, [1, [2]], { a: { b: 'c' } }, 2 ** 40];
        assert.deepEqual(await socket.timeout(3000).emitWithAck('echo', ...values), values[0]);
        const blob = Buffer.from([0, 1, 2, 255]);
        const [back] = await new Promise((resolve) =>
          socket.emit('echo', { file: blob, name: 'f' }, (...args) => resolve(args)),
        );
        assert.equal(back.name, 'f');
        assert.deepEqual(Buffer.from(back.file), blob);
      });
    }

    it('broadcasts to rooms and asks clients for acknowledgements', async () => {
      const { socket: a } = await connect(server.url, '/', ['websocket'], opts);
      const { socket: b } = await connect(server.url, '/', ['polling'], opts);
      await emitWithAck(b, 'join', 'room-m');
      const got = waitFor(b, 'news');
      assert.equal(
        await emitWithAck(a, 'broadcast', { from: 'server', to: ['room-m'], event: 'news', args: [1, Buffer.from('x')] }),
        true,
      );
      const [n, bin] = await got;
      assert.equal(n, 1);
      assert.deepEqual(Buffer.from(bin), Buffer.from('x'));
      b.on('ask', (x, callback) => callback(x * 2));
      const answer = await emitWithAck(a, 'broadcastWithAck', { to: ['room-m'], event: 'ask', args: [21], timeoutMs: 2000 });
      assert.deepEqual(answer, { err: null, responses: [42] });
      a.on('q', (callback) => callback('from a'));
      assert.deepEqual(await emitWithAck(a, 'requestAck', { event: 'q', args: [], timeoutMs: 2000 }), {
        err: null,
        resp: ['from a'],
      });
    });

    it('refuses a namespace with connect_error and disconnects with DISCONNECT', async () => {
      await assert.rejects(connect(server.url, '/admin', ['websocket'], { ...opts, auth: { token: 'wrong' } }), /unauthorized/);
      const { socket } = await connect(server.url, '/', ['websocket'], opts);
      const gone = waitFor(socket, 'disconnect');
      await emitWithAck(socket, 'kick', { in: [socket.id] });
      assert.equal((await gone)[0], 'io server disconnect');
    });

    it('closes a connection that sends a malformed packet, and others go on', async () => {
      const { socket: calm } = await connect(server.url, '/', ['websocket'], opts);
      for (const bad of [
        Buffer.from([0xc1]),
        encode({ type: 9, nsp: '/' }),
        encode({ type: 2, nsp: '/', data: { not: 'an array' } }),
        encode({ type: 2, data: ['e'] }),
        '42["text frame"]',
      ]) {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
        let closed = false;
        ws.on('close', () => (closed = true));
        ws.on('error', () => {});
        await new Promise((resolve) => ws.once('message', resolve));
        ws.send(encode({ type: 0, nsp: '/' }));
        await new Promise((resolve) => ws.once('message', resolve));
        ws.send(typeof bad === 'string' ? `4${bad}` : Buffer.concat([bad]));
        await waitUntil(() => closed, `close after ${typeof bad === 'string' ? bad : bad.toString('hex')}`);
      }
      assert.equal(await emitWithAck(calm, 'echo', 'calm'), 'calm');
    });
  });
}
