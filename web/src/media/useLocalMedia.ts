// The local camera as Preact state, for the call's preview and its controls.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { MediaLink } from './link';
import { canSwitchCamera, LocalMedia } from './local';

export interface LocalControls {
  stream: MediaStream | null;
  /** Shown instead of the preview: the camera or screen stream currently sent. */
  preview: MediaStream | null;
  failed: boolean;
  muted: boolean;
  cameraOff: boolean;
  sharing: boolean;
  canSwitch: boolean;
  facing: 'user' | 'environment';
  toggleMute(): void;
  toggleCamera(): void;
  switchCamera(): Promise<void>;
  toggleShare(): Promise<void>;
}

export function useLocalMedia(link: MediaLink, enabled: boolean): LocalControls {
  const local = useRef<LocalMedia | null>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [screen, setScreen] = useState<MediaStream | null>(null);
  const [failed, setFailed] = useState(false);
  const [muted, setMuted] = useState(false);
  const [cameraOff, setCameraOff] = useState(false);
  const [canSwitch, setCanSwitch] = useState(false);
  const [facing, setFacing] = useState<'user' | 'environment'>('user');

  useEffect(() => {
    if (!enabled) return;
    const media = new LocalMedia(link);
    local.current = media;
    let live = true;
    media
      .start()
      .then(async (s) => {
        if (!live) return media.stop();
        setStream(s);
        setCanSwitch(await canSwitchCamera());
      })
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
      media.stop();
      local.current = null;
    };
  }, [link, enabled]);

  return {
    stream,
    preview: screen ?? stream,
    failed,
    muted,
    cameraOff,
    sharing: screen !== null,
    canSwitch,
    facing,
    toggleMute() {
      local.current?.setMuted(!muted);
      setMuted(!muted);
    },
    toggleCamera() {
      local.current?.setCameraOff(!cameraOff);
      setCameraOff(!cameraOff);
    },
    async switchCamera() {
      const media = local.current;
      if (!media) return;
      const s = await media.switchCamera();
      // A new MediaStream object makes the preview element pick up the new track.
      if (s) setStream(new MediaStream(s.getTracks()));
      setFacing(media.facing);
      if (cameraOff) media.setCameraOff(true);
    },
    async toggleShare() {
      const media = local.current;
      if (!media) return;
      if (screen) {
        media.stopScreenShare();
        setScreen(null);
        return;
      }
      const shared = await media.startScreenShare(() => setScreen(null));
      setScreen(shared);
    },
  };
}
