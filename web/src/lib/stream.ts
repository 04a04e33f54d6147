// The live stream (GET /api/v1/tenants/{tenant}/stream): one WebSocket, subscriptions, and a
// reconnect with back-off that subscribes again (the server then sends fresh snapshots).
import { session, tenantPath } from "./api";

export type StreamMessage = { type: string; [key: string]: any };

export class LiveStream {
  private socket: WebSocket | null = null;
  private retryMs = 500;
  private closed = false;

  constructor(private readonly topics: string[],
              private readonly onMessage: (m: StreamMessage) => void,
              private readonly onStatus: (status: string) => void = () => {}) {}

  open(): void {
    this.closed = false;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + tenantPath("/stream"));
    this.socket = socket;
    this.onStatus("connecting");
    socket.onopen = () => {
      this.retryMs = 500;
      socket.send(JSON.stringify({ subscribe: this.topics }));
    };
    socket.onmessage = (ev) => {
      let message: StreamMessage;
      try {
        message = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (message.type === "subscribed") this.onStatus("live");
      this.onMessage(message);
    };
    socket.onclose = () => {
      this.onStatus("disconnected");
      if (this.closed || !session.tenant) return;
      setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    };
  }

  close(): void {
    this.closed = true;
    this.socket?.close(1000);
  }
}
