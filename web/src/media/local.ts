// The local camera and microphone: start, mute, camera off, front or rear camera, and
// screen share, each change handed to the MediaLink.

import type { MediaLink } from './link';

export type Facing = 'user' | 'environment';

export class LocalMedia {
  stream: MediaStream | null = null;
  screen: MediaStream | null = null;
  facing: Facing = 'user';

  constructor(private readonly link: MediaLink) {}

  async start(): Promise<MediaStream> {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { facingMode: this.facing, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    await this.link.publish(this.stream);
    return this.stream;
  }

  setMuted(muted: boolean): void {
    this.stream?.getAudioTracks().forEach((track) => (track.enabled = !muted));
  }

  setCameraOff(off: boolean): void {
    this.stream?.getVideoTracks().forEach((track) => (track.enabled = !off));
  }

  /** Switches between the front and rear camera, keeping the microphone as it is. */
  async switchCamera(): Promise<MediaStream | null> {
    if (!this.stream) return null;
    const facing: Facing = this.facing === 'user' ? 'environment' : 'user';
    const fresh = await this.otherCamera(facing);
    const [video] = fresh.getVideoTracks();
    for (const old of this.stream.getVideoTracks()) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this.stream.addTrack(video);
    this.facing = facing;
    await this.link.replaceVideoTrack(video);
    return this.stream;
  }

  /** The camera facing the other way; where cameras do not say, the next one listed. */
  private async otherCamera(facing: Facing): Promise<MediaStream> {
    try {
      return await navigator.mediaDevices.getUserMedia({ video: { facingMode: { exact: facing } } });
    } catch {
      const current = this.stream?.getVideoTracks()[0]?.getSettings().deviceId;
      const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
      const next = cameras.find((d) => d.deviceId && d.deviceId !== current);
      if (!next) throw new Error('no other camera');
      return navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: next.deviceId } } });
    }
  }

  /** Shares the screen in place of the camera; resolves with the shared stream. */
  async startScreenShare(onEnded: () => void): Promise<MediaStream> {
    this.screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const [track] = this.screen.getVideoTracks();
    track.addEventListener('ended', () => {
      this.stopScreenShare();
      onEnded();
    });
    await this.link.replaceVideoTrack(track);
    return this.screen;
  }

  stopScreenShare(): void {
    this.screen?.getTracks().forEach((track) => track.stop());
    this.screen = null;
    const [camera] = this.stream?.getVideoTracks() ?? [];
    void this.link.replaceVideoTrack(camera ?? null);
  }

  stop(): void {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.screen?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.screen = null;
  }
}

/** Whether this device has a front and a rear camera to switch between. */
export async function canSwitchCamera(): Promise<boolean> {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  const cameras = devices.filter((d) => d.kind === 'videoinput').length;
  return cameras > 1 || (cameras > 0 && matchMedia('(pointer: coarse)').matches);
}
