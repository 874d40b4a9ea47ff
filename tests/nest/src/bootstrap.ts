// Starts a NestJS app on PORT (default 3000) and prints `listening on PORT`, as every server the
// end-to-end tests start does.
import { NestFactory } from '@nestjs/core';

export async function bootstrap(module: unknown): Promise<void> {
  const app = await NestFactory.create(module as never, { logger: ['log', 'error', 'warn'] });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  console.log(`listening on ${port}`);
}
