// The classic Redis adapter (ADAPTER=redis, Node's createAdapter) across processes: three
// roomcast probes, then roomcast and Node probes in one cluster.
import { after, before } from 'node:test';

import { TARGET } from '../lib/server.mjs';
import { startRedis } from '../lib/redis.mjs';
import { clusterSuite, startNodes, uniqueTag } from './helpers.mjs';

let redis;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

const env = () => ({ ADAPTER: 'redis', REDIS_URL: redis.url, REDIS_KEY: uniqueTag('key') });

clusterSuite(
  `three ${TARGET} probes, classic adapter`,
  () => startNodes([TARGET, TARGET, TARGET], env()),
  [['websocket'], ['polling']],
);

clusterSuite('roomcast and Node probes, classic adapter', () => startNodes([TARGET, 'node', TARGET], env()));
