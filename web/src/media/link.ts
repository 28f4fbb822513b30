// How the call sends and receives audio and video. The pages talk only to MediaLink; the
// link over mediasoup-client (mediasoup.ts) carries media through the server's router, and
// NoMediaLink stands in when the server does not carry media.

import type { SessionEvent } from '../api/types';
import { MediasoupLink } from './mediasoup';
import { emptyInbound } from './stats';

export interface MediaStats {
  bytesSent: number;
  bytesReceived: number;
}

/** What this browser has received of one kind of media, from `RTCPeerConnection.getStats()`. */
export interface InboundCounters {
  bytesReceived: number;
  packetsReceived: number;
  /** Video only; 0 for audio. */
  framesDecoded: number;
}

export interface InboundStats {
  audio: InboundCounters;
  video: InboundCounters;
}

/** The DTLS and SRTP state of one transport, as its `transport` stats report it. */
export interface TransportSecurity {
  direction: 'send' | 'recv';
  dtlsState: string | null;
  dtlsRole: string | null;
  dtlsCipher: string | null;
  srtpCipher: string | null;
  tlsVersion: string | null;
}

export interface MediaLink {
  /** Whether audio and video reach the other participants, as far as known yet. */
  readonly available: boolean;
  /** Resolves once the link knows whether the server carries media, with that answer. */
  ready(): Promise<boolean>;
  /** Starts sending these local tracks. */
  publish(stream: MediaStream): Promise<void>;
  /** Swaps the outgoing video (camera switch, screen share); null stops sending video. */
  replaceVideoTrack(track: MediaStreamTrack | null): Promise<void>;
  /** Calls `listener` with each participant's stream when it arrives, and null when it ends. */
  onRemoteStream(listener: (participantId: string, stream: MediaStream | null) => void): () => void;
  /** Byte counters of the transports, from `RTCPeerConnection.getStats()`. */
  stats(): Promise<MediaStats>;
  /** Counters of the media received, per kind. */
  inboundStats(): Promise<InboundStats>;
  /** The negotiated DTLS and SRTP parameters of each open transport. */
  security(): Promise<TransportSecurity[]>;
  close(): void;
}

/** The commands a media link may send on the session's socket. */
export type SendCommand = (type: string, fields?: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** What a media link needs of the session: commands, events, and who this participant is. */
export interface MediaSignaling {
  send: SendCommand;
  /** Calls `listener` with each session event, in seq order; returns the unsubscribe. */
  onEvent(listener: (event: SessionEvent) => void): () => void;
  /** Calls `listener` after each `welcome`, the first and those after a reconnection. */
  onWelcome(listener: () => void): () => void;
  /** This participant's id, once the session has welcomed it. */
  self(): string | null;
}

export interface MediaLinkOptions {
  /** Sends the camera as three simulcast layers, so the router can pick one per receiver. */
  simulcast?: boolean;
  /**
   * The DTLS role this browser takes. The DTLS server picks the SRTP profile: as client
   * (the default) the router's preference wins, as server Chromium's own.
   */
  dtlsRole?: 'client' | 'server';
}

/**
 * The link for a server that does not carry media: it sends nothing and receives
 * nothing, and the page shows a placeholder where the other person's video goes.
 */
export class NoMediaLink implements MediaLink {
  readonly available = false;
  async ready(): Promise<boolean> {
    return false;
  }
  async publish(): Promise<void> {}
  async replaceVideoTrack(): Promise<void> {}
  onRemoteStream(): () => void {
    return () => undefined;
  }
  async stats(): Promise<MediaStats> {
    return { bytesSent: 0, bytesReceived: 0 };
  }
  async inboundStats(): Promise<InboundStats> {
    return emptyInbound();
  }
  async security(): Promise<TransportSecurity[]> {
    return [];
  }
  close(): void {}
}

/**
 * Options a test or someone diagnosing a call may set before the page loads, as
 * `window.__vitrineMediaOverrides`; they win over the page's own.
 */
function overrides(): MediaLinkOptions {
  const holder = window as unknown as { __vitrineMediaOverrides?: MediaLinkOptions };
  return holder.__vitrineMediaOverrides ?? {};
}

/**
 * The link over mediasoup-client. It falls back to behaving as NoMediaLink by itself when
 * the server answers `media.capabilities` with an error (a node with media off).
 */
export function createMediaLink(signaling: MediaSignaling, options: MediaLinkOptions = {}): MediaLink {
  try {
    return new MediasoupLink(signaling, { ...options, ...overrides() });
  } catch (error) {
    // mediasoup-client knows no handler for this browser (or it has no WebRTC at all).
    console.warn('media: this browser cannot join the call’s audio and video', error);
    return new NoMediaLink();
  }
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
