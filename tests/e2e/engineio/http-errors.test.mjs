// Refused requests: Engine.IO's JSON error answers on plain HTTP and the raw answers to upgrades.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  BAD_HANDSHAKE_METHOD,
  BAD_REQUEST,
  PollingSession,
  UNKNOWN_SID,
  UNKNOWN_TRANSPORT,
  UNSUPPORTED_PROTOCOL_VERSION,
  WsClient,
  assertEngineError,
  engineUrl,
  request,
  withDeadline,
} from './helpers.mjs';

describe('HTTP errors', { timeout: 20000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  describe('plain HTTP requests get 400 with a JSON {code, message} body', () => {
    const cases = [
      ['an unknown transport', 'EIO=4&transport=abc', {}, UNKNOWN_TRANSPORT],
      ['a missing transport', 'EIO=4', {}, UNKNOWN_TRANSPORT],
      ['webtransport over HTTP', 'EIO=4&transport=webtransport', {}, UNKNOWN_TRANSPORT],
      ['a GET with an unknown sid', 'EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA', {}, UNKNOWN_SID],
      [
        'a POST with an unknown sid',
        'EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA',
        { method: 'POST', body: '4x' },
        UNKNOWN_SID,
      ],
      ['a POST handshake', 'EIO=4&transport=polling', { method: 'POST', body: '4x' }, BAD_HANDSHAKE_METHOD],
      ['a PUT handshake', 'EIO=4&transport=polling', { method: 'PUT', body: '4x' }, BAD_HANDSHAKE_METHOD],
      ['a websocket handshake without Upgrade header', 'EIO=4&transport=websocket', {}, BAD_REQUEST],
      ['EIO=3', 'EIO=3&transport=polling', {}, UNSUPPORTED_PROTOCOL_VERSION],
      ['EIO=5', 'EIO=5&transport=polling', {}, UNSUPPORTED_PROTOCOL_VERSION],
      ['a missing EIO', 'transport=polling', {}, UNSUPPORTED_PROTOCOL_VERSION],
      ['a non-numeric EIO', 'EIO=abc&transport=polling', {}, UNSUPPORTED_PROTOCOL_VERSION],
    ];
    for (const [name, query, options, error] of cases) {
      test(`${name} → code ${error.code}`, async () => {
        assertEngineError(await request(engineUrl(server.url, query), options), error);
      });
    }

    test('a polling session addressed as transport=websocket without upgrade → code 3', async () => {
      const session = await PollingSession.open(server.url);
      const res = await request(engineUrl(server.url, `EIO=4&transport=websocket&sid=${session.sid}`));
      assertEngineError(res, BAD_REQUEST);
      await session.assertEchoes();
    });

    test('a v4 session addressed with EIO=3 → code 3', async () => {
      const session = await PollingSession.open(server.url);
      const res = await request(engineUrl(server.url, `EIO=3&transport=polling&sid=${session.sid}`));
      assertEngineError(res, BAD_REQUEST);
      await session.assertEchoes();
    });
  });

  describe('refused WebSocket upgrades get a raw "400 Bad Request" with the message as text', () => {
    // packages/engine.io/lib/server.ts abortUpgrade writes the status line, Content-type
    // text/html and the bare message, then destroys the socket.
    const cases = [
      ['an unknown transport', 'EIO=4&transport=abc', UNKNOWN_TRANSPORT],
      ['a missing transport', 'EIO=4', UNKNOWN_TRANSPORT],
      ['an unknown sid', 'EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA', UNKNOWN_SID],
    ];
    for (const [name, query, error] of cases) {
      test(name, async () => {
        const client = new WsClient(server.url, query);
        const res = await withDeadline(client.rejection, 'refused upgrade');
        assert.equal(res.status, 400);
        assert.equal(res.headers['content-type'], 'text/html');
        assert.equal(res.body, error.message);
        await client.waitClosed();
      });
    }

    // Node checks the protocol version only after accepting the upgrade (server.ts handshake()
    // runs from onWebSocket), so its 400 lands on an already upgraded socket and the client sees a
    // broken connection. Either way no session is opened.
    for (const query of ['EIO=3&transport=websocket', 'EIO=5&transport=websocket', 'transport=websocket']) {
      test(`an unsupported protocol version (${query}) opens no session`, async () => {
        const client = new WsClient(server.url, query);
        await client.waitClosed();
        await assert.rejects(client.next(), /connection closed/, 'no open packet');
      });
    }
  });
});
