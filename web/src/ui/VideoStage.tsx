// The call's video area: the other person large (their video once media flows, else a
// placeholder with their name), this browser's own preview small, and the call controls.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { t } from '../i18n';
import type { LocalControls } from '../media/useLocalMedia';
import { ErrorNote, initials, VideoView } from './common';

interface Props {
  remoteName: string;
  remoteStatus: string;
  remoteStream: MediaStream | null;
  mediaAvailable: boolean;
  local: LocalControls;
  screenShare?: boolean;
  children?: ComponentChildren;
}

export function VideoStage({ remoteName, remoteStatus, remoteStream, mediaAvailable, local, screenShare, children }: Props) {
  const [error, setError] = useState<string | null>(null);
  const attempt = (action: () => Promise<void>, message: string) => async () => {
    setError(null);
    try {
      await action();
    } catch {
      setError(message);
    }
  };

  return (
    <section class="stage" aria-label={t('call.videoArea')} data-testid="stage" data-media={mediaAvailable ? 'available' : 'unavailable'}>
      <div class="remote" data-testid="remote-video">
        {remoteStream ? (
          <VideoView stream={remoteStream} audible label={t('call.remoteVideo', { name: remoteName })} />
        ) : (
          <div class="remote-placeholder">
            <span class="avatar" aria-hidden="true">
              {initials(remoteName) || '…'}
            </span>
            {remoteName && <strong>{remoteName}</strong>}
            <span data-testid="remote-status">{remoteStatus}</span>
          </div>
        )}
      </div>
      <div class="self" data-testid="local-preview">
        {local.preview && !(local.cameraOff && !local.sharing) ? (
          <VideoView stream={local.preview} mirrored={!local.sharing && local.facing === 'user'} label={t('call.yourPreview')} />
        ) : (
          <span class="self-off">{local.failed ? t('call.noCamera') : local.cameraOff ? t('call.cameraIsOff') : t('call.startingCamera')}</span>
        )}
      </div>
      <div class="controls" role="toolbar" aria-label={t('call.controls')}>
        <button type="button" aria-pressed={local.muted} onClick={local.toggleMute} disabled={!local.stream} data-testid="mute">
          {local.muted ? t('call.unmute') : t('call.mute')}
        </button>
        <button type="button" aria-pressed={local.cameraOff} onClick={local.toggleCamera} disabled={!local.stream} data-testid="camera">
          {local.cameraOff ? t('call.cameraOn') : t('call.cameraOff')}
        </button>
        {local.canSwitch && (
          <button type="button" onClick={attempt(local.switchCamera, t('call.switchFailed'))} data-testid="switch-camera">
            {local.facing === 'user' ? t('call.useRearCamera') : t('call.useFrontCamera')}
          </button>
        )}
        {screenShare && (
          <button
            type="button"
            aria-pressed={local.sharing}
            onClick={attempt(local.toggleShare, t('call.shareFailed'))}
            disabled={!local.stream}
            data-testid="screen-share"
          >
            {local.sharing ? t('call.stopSharing') : t('call.shareScreen')}
          </button>
        )}
        {children}
      </div>
      <ErrorNote error={error} />
    </section>
  );
}
