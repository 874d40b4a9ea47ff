// The probe server of the probe contract (CONTRACT.md in shared/), on Node's socket.io: exposes the
// server-side API through events so that one black-box client can drive every implementation alike.
const http = require("node:http");
const { Server } = require("socket.io");
const { attachEcho, envMs } = require("./eio-echo");

const PORT = Number(process.env.PORT || 3000);
// Protocol-suite mode serves the official Engine.IO / Socket.IO protocol test suites.
const SUITE = process.env.PROTOCOL_SUITE === "1";
const PING_INTERVAL = envMs("PING_INTERVAL", SUITE ? 300 : 25000);
const PING_TIMEOUT = envMs("PING_TIMEOUT", SUITE ? 200 : 20000);

/** `undefined`, a string or an array of strings, as an array. */
const list = (rooms) => [].concat(rooms ?? []);

const sorted = (items) => [...items].sort();

/** Listens to each event of `handlers`; a handler gets the ack callback first, then the event's
 * arguments, and a handler that fails acks `{ error: message }`. */
function register(socket, handlers) {
  for (const [event, handler] of Object.entries(handlers)) {
    socket.on(event, async (...args) => {
      const ack = typeof args.at(-1) === "function" ? args.pop() : () => {};
      try {
        await handler(ack, ...args);
      } catch (err) {
        ack({ error: err.message });
      }
    });
  }
}

/** The events of the contract's table. An empty room list targets the whole namespace. */
function probeHandlers(socket) {
  const nsp = socket.nsp;
  return {
    join: async (ack, rooms) => {
      await socket.join(rooms);
      ack(sorted(socket.rooms));
    },
    leave: async (ack, room) => {
      await socket.leave(room);
      ack(sorted(socket.rooms));
    },
    broadcast: (ack, { from, to, except, event, args }) => {
      const origin = { server: nsp, socket: socket.broadcast }[from];
      if (!origin) throw new Error(`unknown origin: ${from}`);
      origin.to(list(to)).except(list(except)).emit(event, ...args);
      ack(true);
    },
    fetch: async (ack, { in: rooms } = {}) => {
      const sockets = await nsp.in(list(rooms)).fetchSockets();
      ack(sorted(sockets.map((s) => s.id)));
    },
    rooms: (ack) => {
      const { rooms, sids } = nsp.adapter;
      ack(sorted([...rooms.keys()].filter((room) => !sids.has(room))));
    },
    socketsJoin: (ack, { in: rooms, rooms: joined }) => {
      nsp.in(list(rooms)).socketsJoin(joined);
      ack(true);
    },
    socketsLeave: (ack, { in: rooms, rooms: left }) => {
      nsp.in(list(rooms)).socketsLeave(left);
      ack(true);
    },
    kick: (ack, { in: rooms, close = false } = {}) => {
      ack(true);
      nsp.in(list(rooms)).disconnectSockets(close);
    },
    echo: (ack, ...args) => ack(...args),
    requestAck: (ack, { event, args, timeoutMs }) => {
      socket.timeout(timeoutMs).emit(event, ...args, (err, ...resp) => {
        ack(err ? { err: err.message, resp: [] } : { err: null, resp });
      });
    },
    broadcastWithAck: (ack, { to, event, args, timeoutMs }) => {
      nsp.in(list(to)).timeout(timeoutMs).emit(event, ...args, (err, responses) => {
        ack({ err: err ? err.message : null, responses });
      });
    },
    serverSideEmit: (ack, { event, args }) => {
      nsp.serverSideEmit(event, ...args);
      ack(true);
    },
    blast: (ack, { to, event, count, payload }) => {
      const target = nsp.in(list(to));
      for (let i = 0; i < count; i++) target.emit(event, i, payload);
      ack(count);
    },
  };
}

/** The extra events the Socket.IO protocol suite sends. */
function suiteHandlers(socket) {
  return {
    message: (_ack, ...args) => socket.emit("message-back", ...args),
    "message-with-ack": (ack, ...args) => ack(...args),
  };
}

/** `/admin` only: local socket count of every namespace. */
function adminHandlers(io) {
  return {
    stats: (ack) => {
      const counts = [...io._nsps].map(([name, nsp]) => [name, nsp.sockets.size]);
      ack({ namespaces: Object.fromEntries(counts) });
    },
  };
}

function onConnection(socket) {
  register(socket, probeHandlers(socket));
  if (SUITE) {
    register(socket, suiteHandlers(socket));
    socket.emit("auth", socket.handshake.auth);
  } else {
    const { id, nsp, handshake, recovered } = socket;
    socket.emit("hello", { id, nsp: nsp.name, auth: handshake.auth, recovered });
  }
}

/** Events other nodes send with `serverSideEmit` reach this node's sockets as `fromServer`.
 * Namespace exposes no catch-all listener for them, hence the override of the hook the adapter
 * calls. */
function relayServerSideEmits(nsp) {
  nsp._onServerSideEmit = (args) => nsp.local.emit("fromServer", ...args);
}

/**
 * The Redis adapter ADAPTER names (`redis`: classic pub/sub, `redis-sharded`: sharded pub/sub
 * with REDIS_SUBSCRIPTION_MODE, `redis-streams`: the streams adapter, stream and channels named
 * REDIS_KEY, REDIS_STREAM_COUNT streams, sharded pub/sub with REDIS_SHARDED_PUBSUB=1) and its
 * clients, over REDIS_URL (comma-separated: the seed nodes of a Redis Cluster), channels
 * prefixed with REDIS_KEY.
 */
async function redisAdapter(kind) {
  const { createClient, createCluster } = require("redis");
  const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
  const urls = (process.env.REDIS_URL || "redis://127.0.0.1:6379").split(",").filter(Boolean);
  const pub =
    urls.length > 1
      ? createCluster({ rootNodes: urls.map((url) => ({ url })) })
      : createClient({ url: urls[0] });
  const key = process.env.REDIS_KEY || "socket.io";
  if (kind === "redis-streams") {
    const streams = require("@socket.io/redis-streams-adapter");
    pub.on("error", (err) => console.error(`redis: ${err.message}`));
    await pub.connect();
    const adapter = streams.createAdapter(pub, {
      streamName: key,
      channelPrefix: key,
      streamCount: Number(process.env.REDIS_STREAM_COUNT || 1),
      useShardedPubSub: process.env.REDIS_SHARDED_PUBSUB === "1",
    });
    return { adapter, clients: [pub] };
  }
  const sub = pub.duplicate();
  for (const client of [pub, sub]) {
    client.on("error", (err) => console.error(`redis: ${err.message}`));
  }
  await Promise.all([pub.connect(), sub.connect()]);
  const adapter =
    kind === "redis-sharded"
      ? createShardedAdapter(pub, sub, {
          channelPrefix: key,
          subscriptionMode: process.env.REDIS_SUBSCRIPTION_MODE || "dynamic",
        })
      : createAdapter(pub, sub, {
          key,
          ...(process.env.REDIS_REQUESTS_TIMEOUT && {
            requestsTimeout: Number(process.env.REDIS_REQUESTS_TIMEOUT),
          }),
        });
  return { adapter, clients: [pub, sub] };
}

async function main() {
  const kind = process.env.ADAPTER || "memory";
  if (!["memory", "redis", "redis-sharded", "redis-streams"].includes(kind)) throw new Error(`unknown ADAPTER ${kind}`);
  const redis = kind === "memory" ? null : await redisAdapter(kind);
  const httpServer = http.createServer((req, res) => res.writeHead(404).end());
  const io = new Server(httpServer, {
    pingInterval: PING_INTERVAL,
    pingTimeout: PING_TIMEOUT,
    maxHttpBufferSize: 1e6,
    cors: { origin: "*" },
    cleanupEmptyChildNamespaces: process.env.CLEANUP_EMPTY_CHILD_NAMESPACES === "1",
    ...(process.env.CONNECT_TIMEOUT && { connectTimeout: Number(process.env.CONNECT_TIMEOUT) }),
    ...(process.env.PARSER === "msgpack" && { parser: require("socket.io-msgpack-parser") }),
    allowEIO3: process.env.ALLOW_EIO3 === "1",
    ...(redis && { adapter: redis.adapter }),
    ...(process.env.RECOVERY === "1" && {
      connectionStateRecovery: {
        maxDisconnectionDuration: Number(process.env.RECOVERY_MAX_DISCONNECTION_MS || 120000),
      },
    }),
  });

  relayServerSideEmits(io.of("/"));
  io.on("new_namespace", relayServerSideEmits);

  for (const name of ["/", "/chat", "/custom"]) io.of(name).on("connection", onConnection);
  io.of(/^\/org-[a-z0-9-]+$/).on("connection", onConnection);
  io.of("/admin")
    .use((socket, next) => {
      next(socket.handshake.auth.token === "secret" ? undefined : new Error("unauthorized"));
    })
    .on("connection", (socket) => {
      register(socket, adminHandlers(io));
      onConnection(socket);
    });

  if (process.env.ADMIN_UI === "1") {
    const { instrument } = require("@socket.io/admin-ui");
    const password = process.env.ADMIN_UI_PASSWORD;
    instrument(io, {
      namespaceName: "/admin-ui",
      auth: password === undefined ? false : { type: "basic", username: "admin", password: require("bcryptjs").hashSync(password, 10) },
      readonly: process.env.ADMIN_UI_READONLY === "1",
      mode: process.env.ADMIN_UI_MODE === "production" ? "production" : "development",
      ...(process.env.ADMIN_UI_SERVER_ID && { serverId: process.env.ADMIN_UI_SERVER_ID }),
    });
  }

  // socket.io's engine answers `/socket.io/` only; other paths reach the listeners attached
  // before or after it, here the raw echo engine.
  if (SUITE) attachEcho(httpServer, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });

  httpServer.listen(PORT, "127.0.0.1", () => console.log(`listening on ${PORT}`));

  process.once("SIGTERM", async () => {
    await io.close(); // disconnects every socket and closes the HTTP server
    await Promise.all((redis?.clients ?? []).map((client) => client.quit()));
    process.exit(0);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
