// The NestJS twin of roomcast-gateway-rooms (examples/src/bin/gateway_rooms.rs): the rooms
// guide's two gateways, as NestJS users write them, so that tests/e2e/gateway/rooms.test.mjs
// can run against both (E2E_TARGET=node). NestJS has no connection guards: /chat lets anyone in.
import 'reflect-metadata';
import {
  CanActivate,
  ExecutionContext,
  Injectable,
  Logger,
  Module,
  PipeTransform,
  UseGuards,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  WsException,
} from '@nestjs/websockets';
import { Length, Matches, ValidationError } from 'class-validator';
import { Namespace, Server, Socket } from 'socket.io';

import { bootstrap } from './bootstrap';

const ROOM = /^[a-z0-9:_-]+$/;

/** `field: what is wrong`, for each failing field, joined with `; `. */
function describe(errors: ValidationError[]): string {
  return errors
    .flatMap((error) => Object.values(error.constraints ?? {}).map((text) => `${error.property}: ${text}`))
    .join('; ');
}

const validation = new ValidationPipe({ exceptionFactory: (errors) => new WsException(describe(errors)) });

class RoomUserDto {
  @Length(1, 64)
  @Matches(ROOM)
  room: string;

  @Length(1, 32)
  @Matches(/^[^\u0000-\u001f\u007f]*$/)
  user: string;
}

/** A room name as the message body. */
class RoomPipe implements PipeTransform {
  transform(room: unknown) {
    if (typeof room !== 'string' || room.length < 1 || room.length > 64 || !ROOM.test(room)) {
      throw new WsException(`room: ${JSON.stringify(room)} does not match pattern ${ROOM}`);
    }
    return room;
  }
}

@Injectable()
class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<Socket>().handshake.auth?.role === 'admin';
  }
}

@WebSocketGateway()
export class RoomGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() server: Server;
  private readonly logger = new Logger('RoomGateway');

  handleConnection(client: Socket) {
    this.logger.log(`client connected: ${client.id}`);
  }

  handleDisconnect(client: Socket) {
    this.logger.log(`client disconnected: ${client.id}`);
  }

  @SubscribeMessage('joinRoom')
  @UsePipes(validation)
  async joinRoom(@MessageBody() body: RoomUserDto, @ConnectedSocket() client: Socket) {
    await client.join(body.room);
    this.logger.log(`socket ${client.id} joined room "${body.room}"`);
    client.to(body.room).emit('userJoined', { user: body.user, room: body.room });
  }

  @SubscribeMessage('leaveRoom')
  async leaveRoom(@MessageBody(new RoomPipe()) room: string, @ConnectedSocket() client: Socket) {
    await client.leave(room);
    this.logger.log(`socket ${client.id} left room "${room}"`);
    this.server.to(room).emit('userLeft', { id: client.id, room });
  }

  @SubscribeMessage('roomMessage')
  @UsePipes(validation)
  roomMessage(@MessageBody() body: RoomUserDto, @ConnectedSocket() client: Socket) {
    this.server.to(body.room).emit('message', { user: body.user, from: client.id });
  }

  @SubscribeMessage('roomStats')
  async roomStats(@MessageBody(new RoomPipe()) room: string) {
    const sockets = await this.server.in(room).fetchSockets();
    return { room, count: sockets.length, members: sockets.map((socket) => socket.id) };
  }

  @SubscribeMessage('kickAll')
  @UseGuards(AdminGuard)
  kickAll(@MessageBody(new RoomPipe()) room: string) {
    this.logger.log(`kicking every socket of room "${room}"`);
    this.server.in(room).disconnectSockets(true);
  }
}

@WebSocketGateway({ namespace: '/chat' })
export class ChatGateway {
  @WebSocketServer() nsp: Namespace;

  @SubscribeMessage('announce')
  announce(@MessageBody() text: string) {
    this.nsp.emit('announcement', text);
  }
}

@Module({ providers: [RoomGateway, ChatGateway, AdminGuard] })
class RoomsModule {}

bootstrap(RoomsModule);
