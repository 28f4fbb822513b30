// The call's audio and video through the server's mediasoup router: one send and one
// receive transport, opened when first needed; this browser's camera and microphone as two
// producers; a consumer for every producer of the other participants, whether it was open
// before this page came (`media.capabilities`) or opens later (`media.producer_added`).

import { Device, type types } from 'mediasoup-client';
import type { SessionEvent } from '../api/types';
import type {
  InboundStats,
  MediaLink,
  MediaLinkOptions,
  MediaSignaling,
  MediaStats,
  TransportSecurity,
} from './link';
import { RemoteStreams } from './remote';
import { addInbound, addRtpBytes, emptyInbound, security } from './stats';
import { openTransport, type Direction } from './transports';

/** A producer as `media.capabilities` lists it and `media.producer_added` announces it. */
interface ProducerInfo {
  producer_id: string;
  participant_id: string;
  kind: 'audio' | 'video';
  source?: string;
}

/** The consumer parameters `media.consume` answers with. */
interface ConsumerReply {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: types.RtpParameters;
}

/**
 * Three layers of one camera, a quarter, half and full size, so the router can send each
 * receiver the one its bandwidth allows.
 */
const SIMULCAST: types.RtpEncodingParameters[] = [
  { rid: 'r0', maxBitrate: 100_000, scaleResolutionDownBy: 4 },
  { rid: 'r1', maxBitrate: 300_000, scaleResolutionDownBy: 2 },
  { rid: 'r2', maxBitrate: 900_000 },
];

/** An error as one line for the console: the wire's code where the server gave one. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? code : error.name}: ${error.message}`;
}

/**
 * Limitation: when the node restarts, the router and its transports are gone and media does
 * not come back until the page reloads; setting the link up again on the next `welcome`
 * would lift it.
 */
export class MediasoupLink implements MediaLink {
  private readonly device = new Device();
  private readonly remote = new RemoteStreams();
  private readonly transports = new Map<Direction, Promise<types.Transport>>();
  private readonly consumers = new Map<string, types.Consumer>();
  private starting: Promise<boolean> | null = null;
  private loaded = false;
  private closed = false;
  private audio: types.Producer | null = null;
  private video: types.Producer | null = null;
  /** Producers heard of before the device could consume, by id. */
  private announced = new Map<string, ProducerInfo>();
  /** Producers asked for or closed: each is consumed at most once. */
  private seen = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly signaling: MediaSignaling,
    private readonly options: MediaLinkOptions,
  ) {
    // From the start, so that no announcement slips by while the device loads.
    this.unsubscribe = signaling.onEvent((event) => this.onEvent(event));
  }

  get available(): boolean {
    return this.loaded && !this.closed;
  }

  ready(): Promise<boolean> {
    this.starting ??= this.start();
    return this.starting;
  }

  async publish(stream: MediaStream): Promise<void> {
    if (!(await this.ready())) return;
    // The local preview works without the router: a failure here is reported, not thrown.
    try {
      const [audio] = stream.getAudioTracks();
      const [video] = stream.getVideoTracks();
      if (audio) await this.sendTrack('audio', audio);
      if (video) await this.sendTrack('video', video);
    } catch (error) {
      console.warn(`media: could not send the camera and microphone (${describe(error)})`);
    }
  }

  async replaceVideoTrack(track: MediaStreamTrack | null): Promise<void> {
    if (!(await this.ready())) return;
    if (this.video) await this.video.replaceTrack({ track });
    else if (track) await this.sendTrack('video', track);
  }

  onRemoteStream(listener: (participantId: string, stream: MediaStream | null) => void): () => void {
    return this.remote.subscribe(listener);
  }

  async stats(): Promise<MediaStats> {
    const total = { bytesSent: 0, bytesReceived: 0 };
    for (const [, transport] of await this.open()) addRtpBytes(total, await transport.getStats());
    return total;
  }

  async inboundStats(): Promise<InboundStats> {
    const total = emptyInbound();
    const recv = (await this.open()).find(([direction]) => direction === 'recv');
    if (recv) addInbound(total, await recv[1].getStats());
    return total;
  }

  async security(): Promise<TransportSecurity[]> {
    const found: TransportSecurity[] = [];
    for (const [direction, transport] of await this.open()) found.push(security(direction, await transport.getStats()));
    return found;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    // The server closes what a participant leaves behind too; saying so is quicker.
    for (const producer of [this.audio, this.video]) {
      if (!producer) continue;
      producer.close();
      this.signaling.send('media.producer.close', { producer_id: producer.id }).catch(() => undefined);
    }
    for (const consumer of this.consumers.values()) consumer.close();
    this.consumers.clear();
    this.remote.clear();
    for (const transport of this.transports.values()) transport.then((t) => t.close(), () => undefined);
  }

  private async start(): Promise<boolean> {
    let data: Record<string, unknown>;
    try {
      data = await this.signaling.send('media.capabilities');
    } catch (error) {
      // `unavailable` is a node running with media off: the call goes on without it.
      console.info(`media: the server carries no media here (${describe(error)})`);
      return false;
    }
    try {
      await this.device.load({ routerRtpCapabilities: data.rtp_capabilities as types.RtpCapabilities });
    } catch (error) {
      console.warn(`media: this browser cannot use the router’s codecs (${describe(error)})`);
      return false;
    }
    if (this.closed) return false;
    this.loaded = true;
    for (const producer of (data.producers as ProducerInfo[] | undefined) ?? []) {
      if (!this.seen.has(producer.producer_id)) this.announced.set(producer.producer_id, producer);
    }
    for (const producer of this.announced.values()) void this.consume(producer);
    this.announced.clear();
    return true;
  }

  private onEvent(event: SessionEvent): void {
    const producer = event.data as unknown as ProducerInfo;
    if (event.kind === 'media.producer_added') {
      if (this.loaded) void this.consume(producer);
      else if (!this.seen.has(producer.producer_id)) this.announced.set(producer.producer_id, producer);
    } else if (event.kind === 'media.producer_removed') {
      this.seen.add(producer.producer_id);
      this.announced.delete(producer.producer_id);
      this.dropConsumer(producer.producer_id);
    }
  }

  private async sendTrack(kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void> {
    const current = kind === 'audio' ? this.audio : this.video;
    if (current) return current.replaceTrack({ track });
    if (!this.device.canProduce(kind)) return;
    const transport = await this.transport('send');
    const producer = await transport.produce({
      track,
      // The tracks belong to the page's LocalMedia, which stops them itself.
      stopTracks: false,
      encodings: kind === 'video' && this.options.simulcast ? SIMULCAST : undefined,
      appData: { source: kind === 'audio' ? 'microphone' : 'camera' },
    });
    if (kind === 'audio') this.audio = producer;
    else this.video = producer;
  }

  private async consume(producer: ProducerInfo): Promise<void> {
    const id = producer.producer_id;
    // Each participant hears the others, never themselves.
    if (producer.participant_id === this.signaling.self() || this.seen.has(id) || this.closed) return;
    this.seen.add(id);
    try {
      const transport = await this.transport('recv');
      const reply = (await this.signaling.send('media.consume', {
        transport_id: transport.id,
        producer_id: id,
        rtp_capabilities: this.device.rtpCapabilities,
      })) as unknown as ConsumerReply;
      const consumer = await transport.consume({
        id: reply.id,
        producerId: reply.producerId,
        kind: reply.kind,
        rtpParameters: reply.rtpParameters,
      });
      if (this.closed) return consumer.close();
      this.consumers.set(id, consumer);
      consumer.on('transportclose', () => this.dropConsumer(id));
      // The server creates consumers paused, so none sends before this end is ready.
      await this.signaling.send('media.consumer.resume', { consumer_id: consumer.id });
      if (this.consumers.get(id) === consumer) this.remote.add(producer.participant_id, id, consumer.track);
    } catch (error) {
      // Often a producer that closed meanwhile; the rest of the call is unaffected.
      console.warn(`media: could not receive producer ${id} (${describe(error)})`);
    }
  }

  private dropConsumer(producerId: string): void {
    const consumer = this.consumers.get(producerId);
    this.consumers.delete(producerId);
    consumer?.close();
    this.remote.remove(producerId);
  }

  private transport(direction: Direction): Promise<types.Transport> {
    let transport = this.transports.get(direction);
    if (!transport) {
      transport = openTransport(this.device, this.signaling.send, direction, this.options.dtlsRole);
      this.transports.set(direction, transport);
      // A failed attempt is forgotten, so the next need tries again.
      transport.catch(() => this.transports.get(direction) === transport && this.transports.delete(direction));
    }
    return transport;
  }

  /** The transports opened so far, each with its direction. */
  private async open(): Promise<[Direction, types.Transport][]> {
    const open: [Direction, types.Transport][] = [];
    for (const [direction, pending] of this.transports) {
      const transport = await pending.catch(() => null);
      if (transport && !transport.closed) open.push([direction, transport]);
    }
    return open;
  }
}
