// Dynamic namespaces' children after their last socket leaves: kept by default, removed with
// CLEANUP_EMPTY_CHILD_NAMESPACES=1 (Node's cleanupEmptyChildNamespaces), and created again by
// the next CONNECT. The probe's /admin `stats` lists the namespaces that exist.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { TARGET, startServer } from '../lib/server.mjs';
import { closeAll, connect, emitWithAck, freshNamespace, waitFor, waitUntil } from './helpers.mjs';

/** The namespaces the server has, by name, with their socket counts. */
async function namespaces(url) {
  const { socket } = await connect(url, '/admin', ['websocket'], { auth: { token: 'secret' } });
  const stats = await emitWithAck(socket, 'stats');
  socket.disconnect();
  return stats.namespaces;
}

for (const cleanup of [false, true]) {
  describe(`empty child namespaces, cleanup ${cleanup ? 'on' : 'off'} (${TARGET})`, () => {
    let server;
    before(async () => {
      server = await startServer('probe', cleanup ? { CLEANUP_EMPTY_CHILD_NAMESPACES: '1' } : {});
    });
    after(() => server?.stop());
    afterEach(closeAll);

    it(cleanup ? 'go with their last socket, and come back' : 'stay after their last socket', async () => {
      const name = freshNamespace('cleanup');
      const [one, two] = [await connect(server.url, name, ['websocket']), await connect(server.url, name, ['websocket'])];
      assert.equal((await namespaces(server.url))[name], 2);
      one.socket.disconnect();
      await waitUntil(async () => (await namespaces(server.url))[name] === 1, 'one socket left');
      const gone = waitFor(two.socket, 'disconnect');
      two.socket.disconnect();
      await gone;
      if (cleanup) {
        await waitUntil(async () => !(name in (await namespaces(server.url))), `${name} removed`);
        const again = await connect(server.url, name, ['websocket']);
        assert.equal(await emitWithAck(again.socket, 'echo', 'back'), 'back');
        assert.equal((await namespaces(server.url))[name], 1);
      } else {
        await waitUntil(async () => (await namespaces(server.url))[name] === 0, `${name} empty`);
      }
      // The dynamic namespace itself and the static ones stay either way.
      const left = await namespaces(server.url);
      for (const kept of ['/', '/chat', '/admin']) assert.ok(kept in left, `${kept} in ${JSON.stringify(left)}`);
    });
  });
}
