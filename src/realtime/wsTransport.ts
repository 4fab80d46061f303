import type { IncomingMessage } from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { OperationIds } from './operationIds.js';

/** What graphql-ws passes its hooks as `ctx.extra`. */
export interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

/**
 * graphql-ws's protocol server (`makeServer`) bound to a `ws` server, as graphql-ws's own
 * `useServer` binds it, but reporting through our logger: a client that breaks the WebSocket
 * protocol (a frame over the size limit, invalid UTF-8) is the client's fault, and `ws` has already
 * closed it with the right code (1009, 1007...), so it is logged at debug level, not printed to the
 * console with a stack trace for every such frame. Each socket is pinged every `keepAliveMs` and
 * dropped when it does not answer within as long again. A subscribe that reuses the id of an
 * operation still being set up waits for it (operationIds.ts).
 */
export function serveGraphQLWs(options: ServerOptions<Record<string, unknown> | undefined, SocketExtra>, wss: WebSocketServer, keepAliveMs: number, log: Logger) {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.once('error', (err) => log.debug({ err: err.message, code: (err as { code?: string }).code }, 'websocket client error; socket closed'));
    let pongWait: NodeJS.Timeout | null = null;
    const pingInterval = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
      socket.once('pong', () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, keepAliveMs);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) => {
          const ids = new OperationIds(
            async (text) => {
              try {
                await cb(text);
              } catch (err) {
                log.error({ err }, 'graphql-ws message handling failed');
                socket.close(CloseCode.InternalServerError, 'Internal server error');
              }
            },
            () => socket.readyState === socket.OPEN,
          );
          socket.on('message', (data) => ids.receive(String(data)));
        },
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      clearInterval(pingInterval);
      void closed(code, String(reason));
    });
  });
  return {
    /** Closes every socket (going away) and the server. */
    async dispose(): Promise<void> {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
