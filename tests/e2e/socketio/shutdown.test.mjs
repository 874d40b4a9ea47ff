// Shutting down on SIGTERM (Server::close): new connections are refused, every client first
// receives what was queued for it, then its transport closes; a session that will never take
// its close is dropped after SHUTDOWN_TIMEOUT, and the process exits within that bound.
// Node's io.close() closes at once; these tests run against roomcast only.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { startServer, TARGET } from '../lib/server.mjs';
import { DEADLINE_MS, emitWithAck, waitUntil } from '../lib/util.mjs';

const exited = (proc) =>
  new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
    proc.once('exit', (code) => resolve(code));
  });

describe('shutdown', { skip: TARGET === 'node', timeout: 30000 }, () => {
  const clients = [];
  const connect = (url, opts) => {
    const client = io(url, { forceNew: true, reconnection: false, ...opts });
    clients.push(client);
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('connect_error', reject);
    });
  };
  after(() => clients.forEach((client) => client.close()));

  test('queued packets are delivered before the close, on both transports', async () => {
    const server = await startServer('probe', { SHUTDOWN_TIMEOUT: '10000' });
    try {
      const reader = await connect(server.url, { transports: ['websocket'] });
      const poller = await connect(server.url, { transports: ['polling'] });
      const COUNT = 300;
      const payload = 'x'.repeat(50_000);
      const got = { reader: 0, poller: 0 };
      reader.on('bulk', () => (got.reader += 1));
      poller.on('bulk', () => (got.poller += 1));
      const reasons = {};
      const closed = [reader, poller].map(
        (client, i) =>
          new Promise((resolve) =>
            client.once('disconnect', (reason) => {
              reasons[i ? 'poller' : 'reader'] = reason;
              resolve();
            }),
          ),
      );
      // The WebSocket reader stops reading: 15 MB stay queued in the server for it.
      const ws = reader.io.engine.transport.ws;
      ws._socket.pause();
      const blasted = poller
        .timeout(15_000)
        .emitWithAck('blast', { to: [reader.id, poller.id], event: 'bulk', count: COUNT, payload });
      assert.equal(await blasted, COUNT);
      assert.equal(got.reader, 0);
      server.proc.kill('SIGTERM');
      await waitUntil(() => server.output().includes('shutting down'), 'the shutdown log');
      ws._socket.resume();
      await Promise.all(closed);
      assert.deepEqual(got, { reader: COUNT, poller: COUNT });
      assert.deepEqual(reasons, { reader: 'transport close', poller: 'transport close' });
      assert.equal(await exited(server.proc), 0);
      assert.doesNotMatch(server.output(), /dropped/);
    } finally {
      await server.kill();
    }
  });

  test('a session that never takes its close is dropped after SHUTDOWN_TIMEOUT', async () => {
    const server = await startServer('probe', { SHUTDOWN_TIMEOUT: '1000' });
    try {
      const client = await connect(server.url, { transports: ['websocket'] });
      assert.equal(await emitWithAck(client, 'echo', 'hi'), 'hi');
      // An Engine.IO polling session that will never poll again.
      const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(res.status, 200);
      const disconnected = new Promise((resolve) => client.once('disconnect', resolve));
      server.proc.kill('SIGTERM');
      assert.equal(await disconnected, 'transport close');
      assert.equal(await exited(server.proc), 0);
      assert.match(server.output(), /connections still open after shutdown_timeout, dropped dropped=1/);
      await assert.rejects(
        fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
          signal: AbortSignal.timeout(DEADLINE_MS),
        }),
      );
    } finally {
      await server.kill();
    }
  });
});
