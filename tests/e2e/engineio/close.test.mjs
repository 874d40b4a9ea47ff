// Closing a session from the client side.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  PollingSession,
  UNKNOWN_SID,
  WsClient,
  assertEngineError,
  assertWebSocketSidForgotten,
  withDeadline,
} from './helpers.mjs';

describe('close', { timeout: 20000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  test('polling: a close packet ends the pending GET with a noop and forgets the sid', async () => {
    const session = await PollingSession.open(server.url);
    const pendingPoll = session.get();
    await sleep(50);
    await session.send('1');
    const ended = await pendingPoll;
    assert.equal(ended.status, 200);
    assert.equal(ended.body, '6');
    assertEngineError(await session.get(), UNKNOWN_SID);
    assertEngineError(await session.post('4x'), UNKNOWN_SID);
  });

  test('websocket: closing the WebSocket ends the session', async () => {
    const client = await WsClient.handshake(server.url);
    await client.assertEchoes();
    await client.close();
    await assertWebSocketSidForgotten(server.url, client.sid);
  });

  test('websocket: a close packet is ignored, as Node does', async () => {
    // engine.io-client closes a websocket session by closing the WebSocket, never with a `1`
    // frame; Node's socket only acts on a close packet that came over polling
    // (packages/engine.io/lib/socket.ts onPacket has no close case; transports/polling.ts
    // onData has). The official suite's "forcefully closes the session" over WebSocket passes
    // there through the ping timeout.
    const client = await WsClient.handshake(server.url);
    try {
      client.send('1');
      client.send('4still there?');
      assert.equal(await client.next(), '4still there?');
      await client.assertEchoes();
    } finally {
      await client.close();
    }
  });
});
