// Per-socket limits (ServerOptions::socket_limits; Node has none): rooms a socket may be in,
// acknowledgements the server may wait for from one socket, and a token bucket on the events
// a socket sends, which drops the excess or disconnects the socket.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { TARGET, startServer } from '../lib/server.mjs';
import { closeAll, connect, emitWithAck, waitFor, waitUntil } from './helpers.mjs';

describe('socket limits', { skip: TARGET === 'node' }, () => {
  describe('rooms and pending acknowledgements', () => {
    let server;
    before(async () => {
      server = await startServer('probe', { MAX_ROOMS_PER_SOCKET: '3', MAX_PENDING_ACKS: '2' });
    });
    after(() => server?.stop());
    afterEach(closeAll);

    it('a join past max_rooms fails and joins none of the rooms asked', async () => {
      const { socket } = await connect(server.url, '/', ['websocket']);
      const rooms = await emitWithAck(socket, 'join', ['a', 'b']);
      assert.deepEqual(rooms, [socket.id, 'a', 'b'].sort());
      // Rooms already joined do not count twice.
      assert.deepEqual(await emitWithAck(socket, 'join', ['a', 'c']), [socket.id, 'a', 'b', 'c'].sort());
      assert.deepEqual(await emitWithAck(socket, 'join', ['d', 'e']), { error: 'the socket is in too many rooms' });
      assert.deepEqual(await emitWithAck(socket, 'leave', 'c'), [socket.id, 'a', 'b'].sort());
      assert.deepEqual(await emitWithAck(socket, 'join', 'd'), [socket.id, 'a', 'b', 'd'].sort());
    });

    it('an emit_with_ack past max_pending_acks fails at once', async () => {
      const { socket } = await connect(server.url, '/', ['websocket']);
      // The client never answers `ask`: each request keeps an acknowledgement pending.
      socket.on('ask', () => {});
      const request = { event: 'ask', args: [], timeoutMs: 1500 };
      const pending = [emitWithAck(socket, 'requestAck', request), emitWithAck(socket, 'requestAck', request)];
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(await emitWithAck(socket, 'requestAck', request), {
        err: 'too many acknowledgements pending on this socket',
        resp: [],
      });
      for (const answer of await Promise.all(pending)) {
        assert.equal(answer.resp.length, 0);
        assert.match(answer.err, /timed out/);
      }
      // Once they time out, there is room again.
      socket.off('ask');
      socket.on('ask', (callback) => callback('yes'));
      assert.deepEqual(await emitWithAck(socket, 'requestAck', request), { err: null, resp: ['yes'] });
    });
  });

  describe('event rate, drop', () => {
    let server;
    before(async () => {
      server = await startServer('probe', { EVENT_RATE: '1', EVENT_BURST: '5', EVENT_RATE_OVER: 'drop' });
    });
    after(() => server?.stop());
    afterEach(closeAll);

    it('lets the burst through, drops the rest, and logs once per run', async () => {
      const { socket } = await connect(server.url, '/', ['websocket']);
      const answers = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => socket.timeout(1000).emitWithAck('echo', i)),
      );
      const answered = answers.filter((a) => a.status === 'fulfilled').map((a) => a.value);
      // The burst of 5, and at most one more token refilled meanwhile (1 per second).
      assert.ok(answered.length >= 5 && answered.length <= 7, `answered ${answered.length}`);
      assert.deepEqual(answered.slice(0, 5), [0, 1, 2, 3, 4]);
      assert.equal(socket.connected, true);
      const logs = server.output().match(/events over the rate limit, dropping them/g) || [];
      assert.ok(logs.length >= 1 && logs.length <= 3, `${logs.length} log lines`);
      // The bucket refills: after a pause the socket is heard again.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal(await emitWithAck(socket, 'echo', 'again'), 'again');
    });
  });

  describe('event rate, disconnect', () => {
    let server;
    before(async () => {
      server = await startServer('probe', { EVENT_RATE: '1', EVENT_BURST: '3', EVENT_RATE_OVER: 'disconnect' });
    });
    after(() => server?.stop());
    afterEach(closeAll);

    it('disconnects a socket over the rate, and others go on', async () => {
      const { socket } = await connect(server.url, '/', ['websocket']);
      const { socket: calm } = await connect(server.url, '/', ['websocket']);
      const disconnected = waitFor(socket, 'disconnect');
      for (let i = 0; i < 10; i += 1) socket.emit('echo', i);
      const [reason] = await disconnected;
      assert.equal(reason, 'io server disconnect');
      await waitUntil(() => server.output().includes('events over the rate limit, disconnecting'), 'the log');
      assert.equal(await emitWithAck(calm, 'echo', 'calm'), 'calm');
    });
  });
});
