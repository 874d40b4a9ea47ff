// A bare Engine.IO server that echoes every message back: text as text, binary as binary.
// Run standalone (`node eio-echo.js`) or attach it to an existing HTTP server with `attachEcho`.
const http = require("node:http");
const engine = require("engine.io");

/** Serves the echo endpoint at `/engine.io/` on `httpServer`. */
function attachEcho(httpServer, { pingInterval, pingTimeout, perMessageDeflate = false }) {
  const server = engine.attach(httpServer, {
    path: "/engine.io/",
    pingInterval,
    pingTimeout,
    maxHttpBufferSize: 1e6,
    cors: { origin: "*" },
    perMessageDeflate,
  });
  server.on("connection", (socket) => {
    socket.on("message", (data) => socket.send(data));
  });
  return server;
}

/** Reads a millisecond setting from the environment. */
function envMs(name, fallback) {
  return process.env[name] ? Number(process.env[name]) : fallback;
}

if (require.main === module) {
  const port = Number(process.env.PORT || 3000);
  const httpServer = http.createServer((req, res) => res.writeHead(404).end());
  const server = attachEcho(httpServer, {
    pingInterval: envMs("PING_INTERVAL", 25000),
    pingTimeout: envMs("PING_TIMEOUT", 20000),
    // WebSocket compression of messages from 1024 bytes on, as engine.io's default threshold.
    perMessageDeflate: process.env.PER_MESSAGE_DEFLATE === "1",
  });
  httpServer.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
  process.on("SIGTERM", () => {
    server.close(); // ends every session, telling its client
    process.exit(0);
  });
}

module.exports = { attachEcho, envMs };
