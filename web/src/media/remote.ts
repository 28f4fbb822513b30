// The other participants' media as one MediaStream each: the tracks of their consumers,
// grouped by who produced them, handed out afresh on every change.

type Listener = (participantId: string, stream: MediaStream | null) => void;

export class RemoteStreams {
  /** participant id → producer id → the consumer's track */
  private byParticipant = new Map<string, Map<string, MediaStreamTrack>>();
  private listeners = new Set<Listener>();

  add(participantId: string, producerId: string, track: MediaStreamTrack): void {
    let tracks = this.byParticipant.get(participantId);
    if (!tracks) {
      tracks = new Map();
      this.byParticipant.set(participantId, tracks);
    }
    tracks.set(producerId, track);
    this.emit(participantId);
  }

  remove(producerId: string): void {
    for (const [participantId, tracks] of this.byParticipant) {
      if (!tracks.delete(producerId)) continue;
      if (tracks.size === 0) this.byParticipant.delete(participantId);
      this.emit(participantId);
    }
  }

  /** Subscribes; a late subscriber is told at once of the streams already there. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    for (const participantId of this.byParticipant.keys()) listener(participantId, this.stream(participantId));
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    const participants = [...this.byParticipant.keys()];
    this.byParticipant.clear();
    for (const participantId of participants) this.emit(participantId);
  }

  // A new MediaStream object each time, so a <video> showing it notices the track change.
  private stream(participantId: string): MediaStream | null {
    const tracks = this.byParticipant.get(participantId);
    return tracks && tracks.size > 0 ? new MediaStream([...tracks.values()]) : null;
  }

  private emit(participantId: string): void {
    const stream = this.stream(participantId);
    for (const listener of this.listeners) listener(participantId, stream);
  }
}
