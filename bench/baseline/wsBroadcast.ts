import { WebSocketServer, type WebSocket } from 'ws';

/** The fan-out baseline: a bare `ws` server that relays each message from a publisher to every other socket. */
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
wss.on('connection', (socket: WebSocket) => {
  socket.on('message', (data) => {
    for (const s of wss.clients) if (s !== socket) s.send(data);
  });
});
wss.on('listening', () => console.log((wss.address() as { port: number }).port));
