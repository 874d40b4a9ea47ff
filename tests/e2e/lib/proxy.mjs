// A TCP proxy on 127.0.0.1 for the recovery tests: clients connect to it, it forwards to one
// server; the test cuts every connection at once (an abrupt network drop), keeps new ones out
// for a while, and lets them through again, possibly to another server.
import { createServer, connect } from 'node:net';

/**
 * Starts a proxy to `targetPort`. Returns `{ port, url, cut, resume, close }`: `cut()` destroys
 * every open connection and refuses new ones, `resume(port)` forwards new connections to `port`
 * (the same server, or another one), `close()` stops it.
 */
export async function startProxy(targetPort) {
  let target = targetPort;
  let open = true;
  const sockets = new Set();
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const to = target;
    const upstream = connect(to, '127.0.0.1');
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
    });
    // A connection the proxy could not forward shows up at the client as a transport error with
    // no cause; the reason is written here, for the test's output.
    upstream.once('error', (err) => {
      if (!connected) console.error(`proxy: cannot reach 127.0.0.1:${to}: ${err.code ?? err.message}`);
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(a);
      // An orderly end is passed on by `pipe` once what is in flight is written (a server closes
      // a polling request's connection right after its response: destroying the other side
      // then would cut that response short); only a failure tears the other side down at once.
      a.on('error', () => b.destroy());
      a.on('close', () => sockets.delete(a));
      a.pipe(b);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    resume(nextPort = target) {
      target = nextPort;
      open = true;
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
