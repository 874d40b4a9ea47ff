// Malformed or out-of-protocol input: the offending session is refused or closed, and a session
// opened beforehand (one polling, one websocket) keeps echoing.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  BAD_REQUEST,
  PollingSession,
  UNKNOWN_SID,
  WsClient,
  assertEngineError,
  engineUrl,
  request,
  withDeadline,
} from './helpers.mjs';

// Node answers a POST whose payload does not parse with 200 "ok" and then closes the session
// (packages/engine.io/lib/socket.ts onPacket, "parse error"); 400 is the other sensible answer.
const POST_STATUSES = [200, 400];

/** Sends a POST that announces more body than it carries, then ends the connection. */
function postTruncated(port, url) {
  const { pathname, search } = new URL(url);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('connect', () => {
    socket.end(
      `POST ${pathname}${search} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        'Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n\r\n4abc',
    );
  });
  socket.resume();
  return withDeadline(
    new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('close', resolve);
    }),
    'truncated POST connection end',
  );
}

describe('bad input', { timeout: 30000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  /** Runs `fn` between opening two bystander sessions and checking that both still echo. */
  async function isolated(fn) {
    const polling = await PollingSession.open(server.url);
    const websocket = await WsClient.handshake(server.url);
    try {
      await fn();
      await polling.assertEchoes();
      await websocket.assertEchoes();
    } finally {
      await websocket.close();
    }
  }

  test('a POST with an unknown packet type (9abc) closes the session', () =>
    isolated(async () => {
      const session = await PollingSession.open(server.url);
      const res = await session.post('9abc');
      assert.ok(POST_STATUSES.includes(res.status), `POST status ${res.status}`);
      await session.assertClosed();
    }));

  test('a POST with invalid base64 (b!!!) is either decoded leniently or closes the session', () =>
    isolated(async () => {
      const session = await PollingSession.open(server.url);
      const res = await session.post('b!!!');
      assert.ok(POST_STATUSES.includes(res.status), `POST status ${res.status}`);
      const poll = await session.get();
      if (poll.status === 200 && poll.body !== '1') {
        // Node's base64 decoder skips characters outside the alphabet (Buffer.from(s, 'base64')),
        // so it echoes an empty binary message.
        assert.equal(poll.body, 'b');
        await session.assertEchoes();
      } else {
        await session.assertClosed();
      }
    }));

  test('an empty POST body closes the session', () =>
    isolated(async () => {
      const session = await PollingSession.open(server.url);
      const res = await session.post('');
      assert.ok(POST_STATUSES.includes(res.status), `POST status ${res.status}`);
      await session.assertClosed();
    }));

  test('a payload ending in a separator (empty last packet) closes the session', () =>
    isolated(async () => {
      const session = await PollingSession.open(server.url);
      const res = await session.post('4abc\x1e');
      assert.ok(POST_STATUSES.includes(res.status), `POST status ${res.status}`);
      await session.assertClosed();
    }));

  test('a POST body cut short of its Content-Length closes the session', () =>
    isolated(async () => {
      const session = await PollingSession.open(server.url);
      await postTruncated(server.port, session.url);
      await session.assertClosed();
    }));

  test('a binary (application/octet-stream) POST is refused with 400 and closes the session', () =>
    isolated(async () => {
      const session = await PollingSession.open(server.url);
      const res = await session.post('4abc', { headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(res.status, 400);
      await session.assertClosed();
    }));

  test('requests with an unknown sid are refused', () =>
    isolated(async () => {
      const url = engineUrl(server.url, 'EIO=4&transport=polling&sid=unknown-session-id-000');
      assertEngineError(await request(url), UNKNOWN_SID);
      assertEngineError(await request(url, { method: 'POST', body: '4x' }), UNKNOWN_SID);
    }));

  test('requests for a session the client closed are refused', () =>
    isolated(async () => {
      const session = await PollingSession.open(server.url);
      await session.send('1');
      assertEngineError(await session.get(), UNKNOWN_SID);
      assertEngineError(await session.post('4x'), UNKNOWN_SID);
    }));

  test('of two websockets racing to upgrade one sid, exactly one gets the probe answer', () =>
    isolated(async () => {
      const session = await PollingSession.open(server.url);
      const query = `EIO=4&transport=websocket&sid=${session.sid}`;
      const contenders = [new WsClient(server.url, query), new WsClient(server.url, query)];
      const probe = async (client) => {
        if (!(await client.opened)) return 'refused';
        client.send('2probe');
        try {
          assert.equal(await client.next(), '3probe');
          return 'probed';
        } catch (err) {
          if (/connection closed/.test(err.message)) return 'refused';
          throw err;
        }
      };
      try {
        const outcomes = await withDeadline(Promise.all(contenders.map(probe)), 'upgrade race');
        assert.deepEqual([...outcomes].sort(), ['probed', 'refused']);
        const winner = contenders[outcomes.indexOf('probed')];
        const loser = contenders[outcomes.indexOf('refused')];
        await loser.waitClosed();

        winner.send('5');
        await winner.assertEchoes();
        assertEngineError(await session.get(), BAD_REQUEST);
      } finally {
        await Promise.all(contenders.map((c) => c.close()));
      }
    }));

  test('a websocket that sends an unknown packet (xyz) is closed', () =>
    isolated(async () => {
      const client = await WsClient.handshake(server.url);
      client.send('xyz');
      await client.waitClosed();
    }));

  test('a websocket that sends a ping (2) to the server is closed', () =>
    isolated(async () => {
      // In protocol v4 only the server pings (packages/engine.io/lib/socket.ts onPacket,
      // "invalid heartbeat direction").
      const client = await WsClient.handshake(server.url);
      client.send('2');
      await client.waitClosed();
    }));
});
