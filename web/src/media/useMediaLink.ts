// The call's media link as Preact state: made once per page from the session's signaling,
// readable as `window.__vitrineMedia`, set up once the session has welcomed this browser,
// and the other participants' streams as they come and go.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { LiveSession } from '../session/useSession';
import { createMediaLink, exposeForDiagnostics, type MediaLink, type MediaLinkOptions } from './link';

export interface CallMedia {
  link: MediaLink;
  /** False until the server has said it carries media, and for good if it does not. */
  available: boolean;
  /** Each other participant's stream, by participant id. */
  remote: Record<string, MediaStream>;
}

export function useMediaLink(session: LiveSession, options: MediaLinkOptions = {}): CallMedia {
  const { signaling } = session;
  // Options are the page's constants; a change of them alone does not rebuild the link.
  const link = useMemo(() => createMediaLink(signaling, options), [signaling]);
  const [available, setAvailable] = useState(false);
  const [remote, setRemote] = useState<Record<string, MediaStream>>({});
  const welcomed = session.me !== null;

  useEffect(() => exposeForDiagnostics(link), [link]);

  useEffect(
    () =>
      link.onRemoteStream((participantId, stream) =>
        setRemote((current) => {
          const next = { ...current };
          if (stream) next[participantId] = stream;
          else delete next[participantId];
          return next;
        }),
      ),
    [link],
  );

  // Commands wait for the welcome anyway; starting after it keeps `self()` known.
  useEffect(() => {
    if (!welcomed) return;
    let live = true;
    link.ready().then((ok) => live && setAvailable(ok));
    return () => {
      live = false;
    };
  }, [link, welcomed]);

  return { link, available, remote };
}
