// How the call sends and receives audio and video. The page talks only to MediaLink, so a
// WebRTC implementation (mediasoup-client over the session's `media.*` commands) can
// replace the one below without touching the pages.

export interface MediaStats {
  bytesSent: number;
  bytesReceived: number;
}

export interface MediaLink {
  /** Whether audio and video reach the other participants. */
  readonly available: boolean;
  /** Starts sending these local tracks. */
  publish(stream: MediaStream): Promise<void>;
  /** Swaps the outgoing video (camera switch, screen share); null stops sending video. */
  replaceVideoTrack(track: MediaStreamTrack | null): Promise<void>;
  /** Calls `listener` with each participant's stream when it arrives, and null when it ends. */
  onRemoteStream(listener: (participantId: string, stream: MediaStream | null) => void): () => void;
  /** Byte counters of the transports, from `RTCPeerConnection.getStats()`. */
  stats(): Promise<MediaStats>;
  close(): void;
}

/** The commands a media link may send on the session's socket. */
export type SendCommand = (type: string, fields?: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * The link for a server that does not carry media yet: it sends nothing and receives
 * nothing, and the page shows a placeholder where the other person's video goes.
 *
 * Limitation: no audio or video reaches the other participant; a link built on
 * mediasoup-client and the `media.*` commands lifts it once the server answers them.
 */
class NoMediaLink implements MediaLink {
  readonly available = false;
  async publish(): Promise<void> {}
  async replaceVideoTrack(): Promise<void> {}
  onRemoteStream(): () => void {
    return () => undefined;
  }
  async stats(): Promise<MediaStats> {
    return { bytesSent: 0, bytesReceived: 0 };
  }
  close(): void {}
}

export function createMediaLink(_send: SendCommand): MediaLink {
  return new NoMediaLink();
}

/**
 * Makes the page's link readable as `window.__vitrineMedia`, so the browser tests (and
 * anyone diagnosing a call from the console) can read its transport counters.
 */
export function exposeForDiagnostics(link: MediaLink): () => void {
  const holder = window as unknown as { __vitrineMedia?: MediaLink };
  holder.__vitrineMedia = link;
  return () => {
    if (holder.__vitrineMedia === link) delete holder.__vitrineMedia;
    link.close();
  };
}
