// Handshake over both transports: the open packet and the polling response headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import { PollingSession, WsClient, engineUrl, request } from './helpers.mjs';

const OPEN_PACKET_KEYS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];
// Node's ids are 15 random-and-sequence bytes in base64url (packages/engine.io/lib/contrib/base64id.ts).
const SID = /^[A-Za-z0-9_-]{20,}$/;

describe('handshake', { timeout: 20000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  test('over polling, the open packet offers the websocket upgrade and the default limits', async () => {
    const { openPacket } = await PollingSession.open(server.url);
    assert.deepEqual(Object.keys(openPacket).sort(), OPEN_PACKET_KEYS);
    assert.match(openPacket.sid, SID);
    assert.deepEqual(openPacket.upgrades, ['websocket']);
    assert.equal(openPacket.pingInterval, 25000);
    assert.equal(openPacket.pingTimeout, 20000);
    assert.equal(openPacket.maxPayload, 1000000);
  });

  test('over polling, the response is plain UTF-8 text that must not be cached', async () => {
    const res = await request(engineUrl(server.url, 'EIO=4&transport=polling'));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; ?charset=utf-8$/i);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(res.body));
    assert.ok(res.body.startsWith('0{'), res.body);
  });

  test('over websocket, the open packet is the first text frame and offers no upgrade', async () => {
    const client = await WsClient.handshake(server.url);
    try {
      assert.deepEqual(Object.keys(client.openPacket).sort(), OPEN_PACKET_KEYS);
      assert.match(client.sid, SID);
      assert.deepEqual(client.openPacket.upgrades, []);
      assert.equal(client.openPacket.pingInterval, 25000);
      assert.equal(client.openPacket.pingTimeout, 20000);
      assert.equal(client.openPacket.maxPayload, 1000000);
    } finally {
      await client.close();
    }
  });

  test('every session gets its own sid', async () => {
    const polling = await Promise.all(Array.from({ length: 10 }, () => PollingSession.open(server.url)));
    const websockets = await Promise.all(Array.from({ length: 10 }, () => WsClient.handshake(server.url)));
    try {
      const sids = [...polling, ...websockets].map((s) => s.sid);
      assert.equal(new Set(sids).size, sids.length, `duplicate sids in ${sids}`);
    } finally {
      await Promise.all(websockets.map((c) => c.close()));
    }
  });
});
