// Heartbeat with short timers: the server pings, the client must answer each ping in time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import { PollingSession, WsClient, uniqueMessage } from './helpers.mjs';

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;

describe('heartbeat', { timeout: 20000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo', {
      PING_INTERVAL: String(PING_INTERVAL),
      PING_TIMEOUT: String(PING_TIMEOUT),
    });
  });
  after(() => server.stop());

  test('the open packet announces the configured interval and timeout', async () => {
    const { openPacket } = await PollingSession.open(server.url);
    assert.equal(openPacket.pingInterval, PING_INTERVAL);
    assert.equal(openPacket.pingTimeout, PING_TIMEOUT);
  });

  test('polling: the server pings and a client that answers keeps its session', async () => {
    const session = await PollingSession.open(server.url);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await session.poll(), ['2']);
      await session.send('3');
    }
    // The session still echoes; pings that come first are answered.
    const message = uniqueMessage();
    await session.send(message);
    for (let packets = await session.poll(); !packets.includes(message); packets = await session.poll()) {
      assert.deepEqual(packets, ['2']);
      await session.send('3');
    }
  });

  test('polling: a client that never answers a ping loses its session', async () => {
    const session = await PollingSession.open(server.url);
    assert.deepEqual(await session.poll(), ['2']);
    await session.assertClosed();
  });

  test('websocket: the server pings and a client that answers keeps its session', async () => {
    const client = await WsClient.handshake(server.url);
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal(await client.next(), '2');
        client.send('3');
      }
      // The session still echoes; pings that come first are answered.
      const message = uniqueMessage();
      client.send(message);
      for (let frame = await client.next(); frame !== message; frame = await client.next()) {
        assert.equal(frame, '2');
        client.send('3');
      }
    } finally {
      await client.close();
    }
  });

  test('websocket: a client that never answers a ping is disconnected', async () => {
    const client = await WsClient.handshake(server.url);
    assert.equal(await client.next(), '2');
    await client.waitClosed();
  });
});
