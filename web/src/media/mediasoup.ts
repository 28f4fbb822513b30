// The call's audio and video through the server's mediasoup router: one send and one
// receive transport, opened when first needed; this browser's camera and microphone as two
// producers; a consumer for every producer of the other participants, whether it was open
// before this page came (`media.capabilities`) or opens later (`media.producer_added`).
// After a reconnection it sets all of that up afresh.

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
 * Everything one setup of the link owns: a device loaded with the router's capabilities,
 * its transports, producers and consumers. A new `welcome` means a new setup, since the
 * server may have dropped this participant's media while the socket was down.
 */
class Setup {
  readonly device = new Device();
  readonly transports = new Map<Direction, Promise<types.Transport>>();
  /** By producer id. */
  readonly consumers = new Map<string, types.Consumer>();
  readonly producers = new Map<'audio' | 'video', types.Producer>();
  /** Producers announced before the device loaded, by id. */
  readonly announced = new Map<string, ProducerInfo>();
  /** Producers consumed or closed: each is consumed at most once. */
  readonly seen = new Set<string>();
  loaded = false;
}

export class MediasoupLink implements MediaLink {
  private readonly remote = new RemoteStreams();
  private setup = new Setup();
  private starting: Promise<boolean> | null = null;
  private closed = false;
  /** What the page last asked to send, to send again after a new setup. */
  private sending = new Map<'audio' | 'video', MediaStreamTrack>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly signaling: MediaSignaling,
    private readonly options: MediaLinkOptions,
  ) {
    // From the start, so that no announcement slips by while the device loads.
    const events = signaling.onEvent((event) => this.onEvent(event));
    // After the welcome is handled, so that the socket sends the new setup's commands once.
    const welcomes = signaling.onWelcome(() => queueMicrotask(() => this.restart()));
    this.unsubscribe = () => {
      events();
      welcomes();
    };
  }

  get available(): boolean {
    return this.setup.loaded && !this.closed;
  }

  ready(): Promise<boolean> {
    this.starting ??= this.start(this.setup);
    return this.starting;
  }

  async publish(stream: MediaStream): Promise<void> {
    const [audio] = stream.getAudioTracks();
    const [video] = stream.getVideoTracks();
    if (audio) this.sending.set('audio', audio);
    if (video) this.sending.set('video', video);
    if (await this.ready()) await this.sendAll(this.setup);
  }

  async replaceVideoTrack(track: MediaStreamTrack | null): Promise<void> {
    if (track) this.sending.set('video', track);
    else this.sending.delete('video');
    if (!(await this.ready())) return;
    const producer = this.setup.producers.get('video');
    if (producer) await producer.replaceTrack({ track });
    else await this.sendAll(this.setup);
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
    this.dispose(this.setup);
  }

  /** A later `welcome`: the socket came back, perhaps to a restarted node. */
  private restart(): void {
    if (this.closed || !this.starting) return;
    this.dispose(this.setup);
    const setup = new Setup();
    this.setup = setup;
    this.starting = this.start(setup).then(async (ok) => {
      if (ok) await this.sendAll(setup);
      return ok;
    });
  }

  private dispose(setup: Setup): void {
    for (const producer of setup.producers.values()) this.closeProducer(producer);
    setup.producers.clear();
    for (const producerId of setup.consumers.keys()) this.remote.remove(producerId);
    for (const consumer of setup.consumers.values()) consumer.close();
    setup.consumers.clear();
    for (const transport of setup.transports.values()) transport.then((t) => t.close(), () => undefined);
  }

  private closeProducer(producer: types.Producer): void {
    producer.close();
    // The server closes what a participant leaves behind too; saying so is quicker. A
    // producer the server already dropped answers not_found, which changes nothing.
    this.signaling.send('media.producer.close', { producer_id: producer.id }).catch(() => undefined);
  }

  private current(setup: Setup): boolean {
    return setup === this.setup && !this.closed;
  }

  private async start(setup: Setup): Promise<boolean> {
    const ok = await this.load(setup);
    // A reconnection meanwhile began another setup: its answer is the one that counts.
    if (setup !== this.setup && !this.closed) return this.ready();
    return ok && !this.closed;
  }

  private async load(setup: Setup): Promise<boolean> {
    let data: Record<string, unknown>;
    try {
      data = await this.signaling.send('media.capabilities');
    } catch (error) {
      // `unavailable` is a node running with media off: the call goes on without it.
      console.info(`media: the server carries no media here (${describe(error)})`);
      return false;
    }
    try {
      await setup.device.load({ routerRtpCapabilities: data.rtp_capabilities as types.RtpCapabilities });
    } catch (error) {
      console.warn(`media: this browser cannot use the router’s codecs (${describe(error)})`);
      return false;
    }
    if (!this.current(setup)) return false;
    setup.loaded = true;
    for (const producer of (data.producers as ProducerInfo[] | undefined) ?? []) {
      if (!setup.seen.has(producer.producer_id)) setup.announced.set(producer.producer_id, producer);
    }
    for (const producer of setup.announced.values()) void this.consume(setup, producer);
    setup.announced.clear();
    return true;
  }

  private onEvent(event: SessionEvent): void {
    const setup = this.setup;
    const producer = event.data as unknown as ProducerInfo;
    if (event.kind === 'media.producer_added') {
      if (setup.loaded) void this.consume(setup, producer);
      else if (!setup.seen.has(producer.producer_id)) setup.announced.set(producer.producer_id, producer);
    } else if (event.kind === 'media.producer_removed') {
      setup.seen.add(producer.producer_id);
      setup.announced.delete(producer.producer_id);
      this.dropConsumer(setup, producer.producer_id);
    }
  }

  /** Sends what the page asked for; the local preview works without it, so nothing throws. */
  private async sendAll(setup: Setup): Promise<void> {
    try {
      for (const [kind, track] of this.sending) await this.sendTrack(setup, kind, track);
    } catch (error) {
      console.warn(`media: could not send the camera and microphone (${describe(error)})`);
    }
  }

  private async sendTrack(setup: Setup, kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void> {
    const current = setup.producers.get(kind);
    if (current) return current.replaceTrack({ track });
    if (!setup.device.canProduce(kind)) return;
    const transport = await this.transport(setup, 'send');
    const producer = await transport.produce({
      track,
      // The tracks belong to the page's LocalMedia, which stops them itself.
      stopTracks: false,
      encodings: kind === 'video' && this.options.simulcast ? SIMULCAST : undefined,
      appData: { source: kind === 'audio' ? 'microphone' : 'camera' },
    });
    if (!this.current(setup)) return this.closeProducer(producer);
    setup.producers.set(kind, producer);
  }

  private async consume(setup: Setup, producer: ProducerInfo): Promise<void> {
    const id = producer.producer_id;
    // Each participant hears the others, never themselves.
    if (producer.participant_id === this.signaling.self() || setup.seen.has(id)) return;
    setup.seen.add(id);
    try {
      const transport = await this.transport(setup, 'recv');
      const reply = (await this.signaling.send('media.consume', {
        transport_id: transport.id,
        producer_id: id,
        rtp_capabilities: setup.device.rtpCapabilities,
      })) as unknown as ConsumerReply;
      const consumer = await transport.consume({
        id: reply.id,
        producerId: reply.producerId,
        kind: reply.kind,
        rtpParameters: reply.rtpParameters,
      });
      if (!this.current(setup)) return consumer.close();
      setup.consumers.set(id, consumer);
      consumer.on('transportclose', () => this.dropConsumer(setup, id));
      // The server creates consumers paused, so none sends before this end is ready.
      await this.signaling.send('media.consumer.resume', { consumer_id: consumer.id });
      if (setup.consumers.get(id) === consumer) this.remote.add(producer.participant_id, id, consumer.track);
    } catch (error) {
      // Often a producer that closed meanwhile; the rest of the call is unaffected.
      if (this.current(setup)) console.warn(`media: could not receive producer ${id} (${describe(error)})`);
    }
  }

  private dropConsumer(setup: Setup, producerId: string): void {
    const consumer = setup.consumers.get(producerId);
    if (!consumer) return;
    setup.consumers.delete(producerId);
    consumer.close();
    this.remote.remove(producerId);
  }

  private transport(setup: Setup, direction: Direction): Promise<types.Transport> {
    let transport = setup.transports.get(direction);
    if (!transport) {
      transport = openTransport(setup.device, this.signaling.send, direction, this.options.dtlsRole);
      setup.transports.set(direction, transport);
      // A failed attempt is forgotten, so the next need tries again.
      transport.catch(() => setup.transports.get(direction) === transport && setup.transports.delete(direction));
    }
    return transport;
  }

  /** The current setup's open transports, each with its direction. */
  private async open(): Promise<[Direction, types.Transport][]> {
    const open: [Direction, types.Transport][] = [];
    for (const [direction, pending] of this.setup.transports) {
      const transport = await pending.catch(() => null);
      if (transport && !transport.closed) open.push([direction, transport]);
    }
    return open;
  }
}
