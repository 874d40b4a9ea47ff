// maxPayload (1e6 bytes): the limit on a polling POST body and on a WebSocket message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  PollingSession,
  WsClient,
  assertWebSocketSidForgotten,
} from './helpers.mjs';

const MAX_PAYLOAD = 1e6;

describe('maxPayload', { timeout: 30000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  test('a POST body of exactly maxPayload bytes is accepted and echoed', async () => {
    const session = await PollingSession.open(server.url);
    const message = `4${'x'.repeat(MAX_PAYLOAD - 1)}`;
    await session.send(message);
    assert.deepEqual(await session.receive(1), [message]);
  });

  test('a POST body over maxPayload is refused with 413 and other sessions are unaffected', async () => {
    const bystander = await PollingSession.open(server.url);
    const session = await PollingSession.open(server.url);
    const res = await session.post(`4${'x'.repeat(MAX_PAYLOAD)}`);
    assert.equal(res.status, 413);

    // As Node: the body is dropped, the session itself stays open
    // (packages/engine.io/lib/transports/polling.ts onDataRequest).
    const next = await session.post('4after');
    assert.equal(next.status, 200);
    assert.equal(next.body, 'ok');
    assert.deepEqual(await session.receive(1), ['4after']);
    await bystander.assertEchoes();
  });

  test('a WebSocket message of exactly maxPayload bytes is echoed', async () => {
    const client = await WsClient.handshake(server.url);
    try {
      const message = `4${'y'.repeat(MAX_PAYLOAD - 1)}`;
      client.send(message);
      assert.equal(await client.next(), message);
    } finally {
      await client.close();
    }
  });

  test('a WebSocket message over maxPayload closes the connection (1009) and the session', async () => {
    const client = await WsClient.handshake(server.url);
    client.send(`4${'y'.repeat(MAX_PAYLOAD)}`);
    const { code } = await client.waitClosed();
    assert.equal(code, 1009);

    await assertWebSocketSidForgotten(server.url, client.sid);
  });
});
