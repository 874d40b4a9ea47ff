// CORS with any origin allowed, as Node's engine.io does with `cors: { origin: '*' }` (the `cors`
// middleware runs before every Engine.IO request, packages/engine.io/lib/server.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../lib/server.mjs';
import { PollingSession, UNKNOWN_SID, assertEngineError, engineUrl, request } from './helpers.mjs';

const ORIGIN = 'https://app.example.com';

function headerList(value) {
  return (value ?? '').split(',').map((item) => item.trim().toLowerCase());
}

describe('CORS', { timeout: 20000 }, () => {
  let server;
  before(async () => {
    server = await startServer('eio-echo');
  });
  after(() => server.stop());

  test('a preflight OPTIONS is answered 204 with the allow headers', async () => {
    const res = await request(engineUrl(server.url, 'EIO=4&transport=polling'), {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const methods = headerList(res.headers.get('access-control-allow-methods'));
    assert.ok(methods.includes('get') && methods.includes('post'), `allowed methods: ${methods}`);
    assert.ok(headerList(res.headers.get('access-control-allow-headers')).includes('content-type'));
    assert.equal(res.body, '');
  });

  test('a handshake GET with Origin gets Access-Control-Allow-Origin: *', async () => {
    const res = await request(engineUrl(server.url, 'EIO=4&transport=polling'), { headers: { origin: ORIGIN } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  test('polls and POSTs of a session carry Access-Control-Allow-Origin: *', async () => {
    const session = await PollingSession.open(server.url);
    const post = await session.post('4hi', { headers: { origin: ORIGIN } });
    assert.equal(post.body, 'ok');
    assert.equal(post.headers.get('access-control-allow-origin'), '*');
    const poll = await session.get({ headers: { origin: ORIGIN } });
    assert.equal(poll.body, '4hi');
    assert.equal(poll.headers.get('access-control-allow-origin'), '*');
  });

  test('error answers carry Access-Control-Allow-Origin: * so a browser can read them', async () => {
    const res = await request(engineUrl(server.url, 'EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA'), {
      headers: { origin: ORIGIN },
    });
    assertEngineError(res, UNKNOWN_SID);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });
});
