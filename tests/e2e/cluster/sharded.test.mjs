// The sharded Redis adapter (ADAPTER=redis-sharded, Node's createShardedAdapter): roomcast and
// Node probes together, in every subscription mode, on one Redis and on a Redis Cluster.
import { after, before } from 'node:test';

import { TARGET } from '../lib/server.mjs';
import { shardSubscribers, startRedis, startRedisCluster } from '../lib/redis.mjs';
import { clusterSuite, startNodes, uniqueTag, waitUntil } from './helpers.mjs';

let redis;
let cluster;
before(async () => {
  redis = await startRedis();
  cluster = await startRedisCluster();
});
after(async () => {
  await redis?.stop();
  await cluster?.stop();
});

/**
 * Three probes, roomcast and Node, on `server` (a Redis or a Redis Cluster) in `mode`. A room's
 * channel (dynamic modes) is subscribed once the room is joined: `settle` waits for it.
 */
function suite(label, server, mode) {
  const key = uniqueTag('key');
  const settle = async (room, members) => {
    if (mode === 'static') return;
    const channel = `${key}#/#${room}#`;
    await waitUntil(async () => (await shardSubscribers(server().urls, channel)) >= members, `${members} subscribers of ${channel}`);
  };
  clusterSuite(
    label,
    () =>
      startNodes([TARGET, 'node', TARGET], {
        ADAPTER: 'redis-sharded',
        REDIS_URL: server().url,
        REDIS_KEY: key,
        REDIS_SUBSCRIPTION_MODE: mode,
      }),
    [['websocket']],
    settle,
  );
}

for (const mode of ['dynamic', 'static', 'dynamic-private']) {
  suite(`roomcast and Node probes, sharded adapter (${mode})`, () => ({ url: redis.url, urls: [redis.url] }), mode);
}
suite('roomcast and Node probes, sharded adapter on a Redis Cluster', () => cluster, 'dynamic');
