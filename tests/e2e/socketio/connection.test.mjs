// Namespace connection: the probe's `hello`, handshake auth, socket ids on a multiplexed
// connection, refused namespaces and the /admin middleware.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startServer } from '../lib/server.mjs';
import {
  TRANSPORTS,
  closeAll,
  connect,
  connectVia,
  emitWithAck,
  freshNamespace,
  manager,
  waitFor,
  waitUntil,
} from './helpers.mjs';

let server;
before(async () => {
  server = await startServer('probe');
});
after(() => server?.stop());
afterEach(closeAll);

for (const { name, transports } of TRANSPORTS) {
  describe(`connection over ${name}`, () => {
    for (const nsp of ['/', '/chat', '/custom', '/org-acme']) {
      it(`greets a socket on ${nsp} with hello`, async () => {
        const { socket, hello } = await connect(server.url, nsp, transports);
        assert.deepEqual(hello, { id: socket.id, nsp, auth: {}, recovered: false });
      });
    }

    it('echoes the handshake auth in hello', async () => {
      const auth = { user: 'ann', level: 3, tags: ['a', 'b'], extra: { on: true } };
      for (const nsp of ['/', '/org-acme']) {
        const { socket, hello } = await connect(server.url, nsp, transports, { auth });
        assert.deepEqual(hello, { id: socket.id, nsp, auth, recovered: false });
      }
    });

    it('gives each namespace of one connection its own socket id and id-room', async () => {
      const mgr = manager(server.url, transports);
      const sockets = [];
      for (const nsp of ['/', '/chat', '/org-acme']) sockets.push(await connectVia(mgr, nsp));
      const ids = sockets.map(({ socket }) => socket.id);
      assert.equal(new Set(ids).size, ids.length, `socket ids repeat: ${ids}`);
      for (const { socket, hello } of sockets) {
        assert.equal(hello.id, socket.id);
        assert.notEqual(socket.id, mgr.engine.id, 'a socket id must not be the Engine.IO id');
        assert.deepEqual(await emitWithAck(socket, 'join', 'lobby'), ['lobby', socket.id].sort());
      }
      // All three sockets share the single Engine.IO connection of the Manager.
      assert.equal(new Set(sockets.map(({ socket }) => socket.io.engine.id)).size, 1);
    });

    it('refuses an unknown namespace with "Invalid namespace" and keeps the connection', async () => {
      const mgr = manager(server.url, transports);
      const { socket: root } = await connectVia(mgr, '/');
      const nope = mgr.socket('/nope');
      const [err] = await waitFor(nope, 'connect_error');
      assert.equal(err.message, 'Invalid namespace');
      assert.equal(nope.connected, false);
      assert.deepEqual(await emitWithAck(root, 'echo', 'still here'), 'still here');
    });

    for (const [title, auth] of [
      ['without auth', undefined],
      ['with a wrong token', { token: 'guess' }],
    ]) {
      it(`refuses /admin ${title} with "unauthorized"`, async () => {
        const mgr = manager(server.url, transports);
        const admin = mgr.socket('/admin', auth ? { auth } : {});
        const [err] = await waitFor(admin, 'connect_error');
        assert.equal(err.message, 'unauthorized');
        assert.equal(admin.connected, false);
      });
    }

    it('admits /admin with the right token and reports live namespace sizes in stats', async () => {
      const nsp = freshNamespace('stats');
      const [{ socket: first }] = await Promise.all([
        connect(server.url, nsp, transports),
        connect(server.url, nsp, transports),
      ]);
      const auth = { token: 'secret' };
      const { socket: admin, hello } = await connect(server.url, '/admin', transports, { auth });
      assert.deepEqual(hello, { id: admin.id, nsp: '/admin', auth, recovered: false });

      const stats = await emitWithAck(admin, 'stats');
      assert.deepEqual(Object.keys(stats), ['namespaces']);
      assert.equal(stats.namespaces[nsp], 2);
      assert.ok(stats.namespaces['/admin'] >= 1, `/admin count: ${stats.namespaces['/admin']}`);
      for (const count of Object.values(stats.namespaces)) assert.equal(typeof count, 'number');

      first.disconnect();
      await waitUntil(
        async () => (await emitWithAck(admin, 'stats')).namespaces[nsp] === 1,
        `${nsp} to count 1 socket`,
      );
    });

    if (name === 'upgrade') {
      it('upgrades from polling to websocket and keeps answering', async () => {
        const { socket } = await connect(server.url, '/', transports);
        const engine = socket.io.engine;
        if (engine.transport.name !== 'websocket') await waitFor(engine, 'upgrade');
        assert.equal(engine.transport.name, 'websocket');
        assert.deepEqual(await emitWithAck(socket, 'echo', 'after upgrade'), 'after upgrade');
      });
    }
  });
}
