// Acknowledgements in both directions (with and without timeouts, single socket and broadcast),
// binary payloads, serverSideEmit with the in-memory adapter, and ordered bursts (`blast`).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  DEADLINE_MS,
  TRANSPORTS,
  closeAll,
  connect,
  connectMany,
  emitWithAck,
  emitWithAckAll,
  freshNamespace,
  normalizeBinary,
  record,
  sentinel,
  uniqueTag,
} from './helpers.mjs';

let server;
before(async () => {
  server = await startServer('probe');
});
after(() => server?.stop());
afterEach(closeAll);

const MIXED = [1, 'two', { three: [3, null] }, null, true, [1, 'a', { b: false }], 0.5, '', -7];

// Binary values at the top level and nested in objects and arrays.
const binaryArgs = () => [
  Buffer.from([1, 2, 3]),
  new Uint8Array([4, 5, 0, 255]),
  { nested: { bin: Buffer.from('hi') }, list: [Buffer.from([0]), 'text', new Uint8Array([9])] },
  'plain',
];

for (const { name, transports } of TRANSPORTS) {
  describe(`acknowledgements over ${name}`, () => {
    it('echo acks every argument, of mixed types', async () => {
      const { socket } = await connect(server.url, '/', transports);
      assert.deepEqual(await emitWithAckAll(socket, 'echo', ...MIXED), MIXED);
      assert.deepEqual(await emitWithAckAll(socket, 'echo'), []);
    });

    it('echo with a client-side timeout resolves with the first ack argument', async () => {
      const { socket } = await connect(server.url, '/', transports);
      assert.equal(await socket.timeout(DEADLINE_MS).emitWithAck('echo', 'x', 'y'), 'x');
    });

    it('requestAck returns every argument of the client ack', async () => {
      const { socket } = await connect(server.url, '/', transports);
      const asked = [];
      socket.on('question', (...args) => {
        const ack = args.pop();
        asked.push(args);
        ack('answer', 42, { ok: true });
      });
      const reply = await emitWithAck(socket, 'requestAck', {
        event: 'question',
        args: [1, 'b'],
        timeoutMs: DEADLINE_MS / 2,
      });
      assert.deepEqual(reply, { err: null, resp: ['answer', 42, { ok: true }] });
      assert.deepEqual(asked, [[1, 'b']]);
    });

    it('requestAck times out with an error and no responses when the client does not ack', async () => {
      const { socket } = await connect(server.url, '/', transports);
      socket.on('question', () => {});
      const start = Date.now();
      const reply = await emitWithAck(socket, 'requestAck', {
        event: 'question',
        args: [],
        timeoutMs: 200,
      });
      assert.equal(typeof reply.err, 'string');
      assert.notEqual(reply.err, '');
      assert.deepEqual(reply, { err: reply.err, resp: [] });
      assert.ok(Date.now() - start >= 150, `answered after ${Date.now() - start} ms`);
    });

    describe('broadcastWithAck', () => {
      /** Three answering members of `room` (P, Q, R) and one socket outside it (S). */
      async function roomOfThree() {
        const nsp = freshNamespace('bwa');
        const sockets = await connectMany(server.url, nsp, transports, 4);
        const [p, q, r, s] = sockets;
        const room = uniqueTag('room');
        for (const member of [p, q, r]) await emitWithAck(member, 'join', room);
        const received = sockets.map(record);
        return { sockets, p, q, r, s, room, received };
      }

      /** Makes `socket` answer `vote` with its `label` and a second argument. */
      const answers = (socket, label) =>
        socket.on('vote', (topic, ack) => ack(`${label}:${topic}`, 'second'));

      it('collects the first ack argument of every member', async () => {
        const { p, q, r, s, room, received } = await roomOfThree();
        answers(p, 'P');
        answers(q, 'Q');
        answers(r, 'R');
        answers(s, 'S');
        const reply = await emitWithAck(s, 'broadcastWithAck', {
          to: [room],
          event: 'vote',
          args: ['t1'],
          timeoutMs: DEADLINE_MS / 2,
        });
        assert.equal(reply.err, null);
        assert.deepEqual(reply.responses.sort(), ['P:t1', 'Q:t1', 'R:t1']);
        await sentinel(s, [p, q, r, s]);
        assert.deepEqual(received[3].filter(([event]) => event === 'vote'), []);
      });

      it('without `to` asks the whole namespace, requester included', async () => {
        const { sockets, p } = await roomOfThree();
        for (const [i, socket] of sockets.entries()) answers(socket, 'PQRS'[i]);
        const reply = await emitWithAck(p, 'broadcastWithAck', {
          event: 'vote',
          args: ['t2'],
          timeoutMs: DEADLINE_MS / 2,
        });
        assert.equal(reply.err, null);
        assert.deepEqual(reply.responses.sort(), ['P:t2', 'Q:t2', 'R:t2', 'S:t2']);
      });

      it('reports a timeout and keeps the responses that arrived', async () => {
        const { p, q, r, room } = await roomOfThree();
        answers(p, 'P');
        answers(q, 'Q');
        r.on('vote', () => {});
        const reply = await emitWithAck(p, 'broadcastWithAck', {
          to: [room],
          event: 'vote',
          args: ['t3'],
          timeoutMs: 300,
        });
        assert.equal(typeof reply.err, 'string');
        assert.notEqual(reply.err, '');
        assert.deepEqual(reply.responses.sort(), ['P:t3', 'Q:t3']);
      });

      // With no recipient the completeness check passes as soon as the adapter reports zero
      // clients (`BroadcastOperator.emit` in packages/socket.io/lib/broadcast-operator.ts).
      it('to an empty room answers at once with no responses', async () => {
        const { p } = await roomOfThree();
        const start = Date.now();
        const reply = await emitWithAck(p, 'broadcastWithAck', {
          to: [uniqueTag('empty')],
          event: 'vote',
          args: [],
          timeoutMs: 10 * DEADLINE_MS,
        });
        assert.deepEqual(reply, { err: null, responses: [] });
        assert.ok(Date.now() - start < 1000, `answered after ${Date.now() - start} ms`);
      });
    });
  });

  describe(`binary over ${name}`, () => {
    it('echo returns binary arguments, nested ones included, byte for byte', async () => {
      const { socket } = await connect(server.url, '/', transports);
      const args = binaryArgs();
      const resp = await emitWithAckAll(socket, 'echo', ...args);
      assert.deepEqual(normalizeBinary(resp), normalizeBinary(args));
    });

    it('requestAck returns binary the client acks with', async () => {
      const { socket } = await connect(server.url, '/', transports);
      socket.on('question', (bytes, ack) => ack(bytes, { copy: [bytes] }));
      const reply = await emitWithAck(socket, 'requestAck', {
        event: 'question',
        args: [Buffer.from([7, 8, 9])],
        timeoutMs: DEADLINE_MS / 2,
      });
      const bytes = Buffer.from([7, 8, 9]);
      assert.deepEqual(normalizeBinary(reply), { err: null, resp: [bytes, { copy: [bytes] }] });
    });

    it('a server broadcast carries binary arguments to every recipient', async () => {
      const nsp = freshNamespace('bin');
      const sockets = await connectMany(server.url, nsp, transports, 3);
      const received = sockets.map(record);
      const args = binaryArgs();
      assert.equal(
        await emitWithAck(sockets[0], 'broadcast', { from: 'server', event: 'bytes', args }),
        true,
      );
      await sentinel(sockets[0], sockets);
      const got = received.map((events) =>
        normalizeBinary(events.filter(([event]) => event === 'bytes')),
      );
      const expected = [['bytes', ...normalizeBinary(args)]];
      assert.deepEqual(got, [expected, expected, expected]);
    });
  });

  describe(`serverSideEmit and blast over ${name}`, () => {
    it('serverSideEmit acks true and reaches no client with the in-memory adapter', async () => {
      const nsp = freshNamespace('sse');
      const sockets = await connectMany(server.url, nsp, transports, 3);
      const received = sockets.map(record);
      const reply = await emitWithAck(sockets[0], 'serverSideEmit', {
        event: 'ping-peers',
        args: [1, 'two'],
      });
      assert.equal(reply, true);
      await sentinel(sockets[1], sockets);
      for (const events of received) {
        assert.deepEqual(events.map(([event]) => event), ['sentinel']);
      }
    });

    it('blast delivers count messages (i, payload) in order', async () => {
      const { socket } = await connect(server.url, freshNamespace('blast'), transports);
      const events = record(socket);
      const payload = { k: 'v', n: [1, 2] };
      const count = 200;
      assert.equal(await emitWithAck(socket, 'blast', { event: 'burst', count, payload }), count);
      await sentinel(socket, [socket]);
      assert.deepEqual(
        events.filter(([event]) => event === 'burst'),
        Array.from({ length: count }, (_, i) => ['burst', i, payload]),
      );
    });

    it('blast with `to` reaches only the members of the room', async () => {
      const nsp = freshNamespace('blast');
      const [member, outsider] = await connectMany(server.url, nsp, transports, 2);
      const room = uniqueTag('room');
      await emitWithAck(member, 'join', room);
      const received = [member, outsider].map(record);
      assert.equal(
        await emitWithAck(outsider, 'blast', { to: [room], event: 'burst', count: 3, payload: 'p' }),
        3,
      );
      await sentinel(outsider, [member, outsider]);
      assert.deepEqual(
        received.map((events) => events.filter(([event]) => event === 'burst')),
        [
          [
            ['burst', 0, 'p'],
            ['burst', 1, 'p'],
            ['burst', 2, 'p'],
          ],
          [],
        ],
      );
    });
  });
}
