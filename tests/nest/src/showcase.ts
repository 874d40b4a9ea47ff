// The NestJS twin of roomcast-gateway-showcase (examples/src/bin/gateway_showcase.rs), for the
// parts NestJS has: return values and WsResponse, exceptions, guards, pipes, interceptors,
// exception filters, an injected provider, a dynamic namespace. tests/e2e/gateway/showcase.test.mjs
// runs against both (E2E_TARGET=node).
import 'reflect-metadata';
import {
  ArgumentsHost,
  CallHandler,
  CanActivate,
  Catch,
  ExceptionFilter,
  ExecutionContext,
  Injectable,
  Module,
  NestInterceptor,
  PipeTransform,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
} from '@nestjs/websockets';
import { map } from 'rxjs';
import { Socket } from 'socket.io';

import { bootstrap } from './bootstrap';

class Deny implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

class Pass implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<Socket>().handshake.auth?.pass === true;
  }
}

class NotNo implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getData() !== 'no';
  }
}

class Wrap implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(map((value) => ({ wrapped: value })));
  }
}

class Teapot extends Error {
  constructor() {
    super("I'm a teapot");
  }
}

@Catch(Teapot)
class TeapotFilter implements ExceptionFilter {
  catch(error: Teapot, host: ArgumentsHost) {
    host.switchToWs().getClient<Socket>().emit('teapot', error.message);
    const ack = host.getArgByIndex(2);
    if (typeof ack === 'function') ack({ teapot: true });
  }
}

/** A number between 1 and 10. */
class SmallPipe implements PipeTransform {
  transform(value: unknown) {
    if (typeof value !== 'number') throw new WsException('invalid message: expected a number');
    if (value < 1 || value > 10) throw new WsException(`${value} is not between 1 and 10`);
    return value;
  }
}

@Injectable()
class Visits {
  count = 0;
}

@WebSocketGateway()
export class ShowcaseGateway {
  constructor(private readonly visits: Visits) {}

  @SubscribeMessage('retValue')
  retValue(@MessageBody() body: unknown) {
    return { ok: true, echo: body };
  }

  @SubscribeMessage('retNothing')
  retNothing() {}

  @SubscribeMessage('retNone')
  retNone() {
    return null;
  }

  @SubscribeMessage('retZero')
  retZero() {
    return 0;
  }

  @SubscribeMessage('wsResponse')
  wsResponse(@MessageBody() body: unknown) {
    return { event: 'reply', data: body };
  }

  @SubscribeMessage('eventOnly')
  eventOnly() {
    return { event: 'bare' };
  }

  @SubscribeMessage('throwText')
  throwText() {
    throw new WsException('msg');
  }

  @SubscribeMessage('throwObject')
  throwObject() {
    throw new WsException({ code: 7 });
  }

  @SubscribeMessage('throwError')
  throwError() {
    throw new Error('boom');
  }

  @SubscribeMessage('manualAck')
  manualAck(@Ack() ack: (value: unknown) => void) {
    ack('manual');
    return 'ignored';
  }

  @SubscribeMessage('whoami')
  whoami(@ConnectedSocket() client: Socket) {
    return { user: client.handshake.auth?.user, pattern: 'whoami', query: client.handshake.query.tag, id: client.id };
  }

  @SubscribeMessage('visit')
  visit() {
    this.visits.count += 1;
    return this.visits.count;
  }

  @SubscribeMessage('denied')
  @UseGuards(Deny)
  denied() {
    return 'never';
  }

  @SubscribeMessage('wrapped')
  @UseInterceptors(Wrap)
  wrapped() {
    return 1;
  }

  @SubscribeMessage('teapot')
  @UseFilters(TeapotFilter)
  teapot() {
    throw new Teapot();
  }

  @SubscribeMessage('double')
  double(@MessageBody(new SmallPipe()) n: number) {
    return n * 2;
  }
}

@WebSocketGateway({ namespace: '/guarded' })
@UseGuards(Pass)
export class GuardedGateway {
  @SubscribeMessage('check')
  @UseGuards(NotNo)
  check(@MessageBody() text: string) {
    return `ok ${text}`;
  }
}

@WebSocketGateway({ namespace: /^\/dyn-[a-z]+$/ })
export class DynGateway {
  @SubscribeMessage('where')
  where(@ConnectedSocket() client: Socket) {
    return client.nsp.name;
  }
}

@Module({ providers: [ShowcaseGateway, GuardedGateway, DynGateway, Visits] })
class ShowcaseModule {}

bootstrap(ShowcaseModule);
