// One participant's WebSocket into a session: `hello`, commands with ids and their
// replies, and reconnection that resumes by `seq` without showing the user anything but a
// quiet indicator.

import type { Reply, SessionEvent, Welcome, WireError } from './types';

export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SocketHandlers {
  /** A `welcome`; `resumed` is true when events after the last seen seq follow. */
  welcome(welcome: Welcome, resumed: boolean): void;
  event(event: SessionEvent): void;
  state(state: LinkState): void;
  /** The server refused the token or the session: no point retrying. */
  fatal(error: WireError): void;
}

export class CommandFailed extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

interface Pending {
  frame: string;
  resolve(data: Record<string, unknown>): void;
  reject(error: CommandFailed): void;
  timer: number;
}

/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSES = new Set([4401, 4404]);
/** Longest wait between reconnection attempts. */
const MAX_BACKOFF_MS = 8000;
/** How long a command may wait for its reply, reconnections included. */
const COMMAND_TIMEOUT_MS = 30000;
/**
 * How often the client pings. The server's own pings are answered by the browser unseen,
 * so without this a link that died silently (a network change) would go unnoticed.
 */
const PING_EVERY_MS = 30000;

function wsUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/v1/ws`;
}

export class SessionSocket {
  private ws: WebSocket | null = null;
  private pending = new Map<string, Pending>();
  private counter = 0;
  // Unique per page load, so ids never repeat across reloads of the same participant.
  private readonly prefix = Math.random().toString(36).slice(2, 10);
  private attempt = 0;
  private joined = false;
  private stopped = false;
  private retryTimer = 0;
  private pingTimer = 0;
  private refusal: WireError | null = null;
  /** The last seq applied; null until the first `welcome`. */
  lastSeq: number | null = null;

  constructor(
    private readonly token: string,
    private readonly sessionId: string,
    private readonly handlers: SocketHandlers,
  ) {
    addEventListener('online', this.retryNow);
  }

  connect(): void {
    this.stopped = false;
    this.open();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    removeEventListener('online', this.retryNow);
    this.ws?.close(1000);
    this.ws = null;
    this.handlers.state('closed');
  }

  /** Sends a command; resolves with its reply's data, or rejects with its error. */
  send(type: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = `${this.prefix}-${++this.counter}`;
    const frame = JSON.stringify({ ...fields, id, type });
    return new Promise((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new CommandFailed('unavailable', 'no reply in time'));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { frame, resolve, reject, timer });
      if (this.joined) this.ws?.send(frame);
    });
  }

  private retryNow = () => {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.open();
  };

  private open(): void {
    this.handlers.state(this.lastSeq === null && this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(wsUrl());
    this.ws = ws;
    this.joined = false;
    ws.onopen = () => {
      const hello: Record<string, unknown> = { type: 'hello', token: this.token, session_id: this.sessionId };
      if (this.lastSeq !== null) hello.resume_after = this.lastSeq;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (message) => this.receive(String(message.data));
    ws.onclose = (close) => this.closed(ws, close.code, close.reason);
  }

  private receive(text: string): void {
    let frame: { type?: string } & Record<string, unknown>;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    switch (frame.type) {
      case 'welcome':
        return this.welcomed(frame as unknown as Welcome);
      case 'event': {
        const event = frame as unknown as SessionEvent;
        // Each seq is applied once, whatever a reconnection replays.
        if (this.lastSeq !== null && event.seq <= this.lastSeq) return;
        this.lastSeq = event.seq;
        return this.handlers.event(event);
      }
      case 'reply':
        return this.replied(frame as unknown as Reply);
      case 'error': {
        // Before `welcome`, an error frame explains the close that follows.
        if (!this.joined) this.refusal = frame.error as WireError;
        return;
      }
    }
  }

  private welcomed(welcome: Welcome): void {
    const resumed = this.lastSeq !== null && welcome.seq >= this.lastSeq;
    if (!resumed) this.lastSeq = welcome.seq;
    this.joined = true;
    this.attempt = 0;
    this.handlers.welcome(welcome, resumed);
    this.handlers.state('open');
    // Commands sent while the link was down go out now, with their original ids, so
    // any that already took effect are answered from the server's memory, not repeated.
    for (const pending of this.pending.values()) this.ws?.send(pending.frame);
    clearInterval(this.pingTimer);
    this.pingTimer = window.setInterval(() => {
      this.send('ping').catch(() => undefined);
    }, PING_EVERY_MS);
  }

  private replied(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.data ?? {});
    else pending.reject(new CommandFailed(reply.error?.code ?? 'internal', reply.error?.message ?? ''));
  }

  private closed(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.joined = false;
    clearInterval(this.pingTimer);
    if (this.stopped) return;
    if (FINAL_CLOSES.has(code)) {
      this.stopped = true;
      this.handlers.state('closed');
      this.handlers.fatal(
        this.refusal ?? { code: code === 4404 ? 'not_found' : 'unauthorized', message: reason },
      );
      return;
    }
    this.handlers.state('reconnecting');
    const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempt++);
    this.retryTimer = window.setTimeout(() => this.open(), backoff * (0.75 + Math.random() / 2));
  }
}
