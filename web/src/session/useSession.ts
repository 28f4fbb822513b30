// A Preact hook over SessionSocket: the live session state, this participant, the link's
// state, a `send` for commands, and the signaling a media link needs.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { SessionSocket, type LinkState } from '../api/socket';
import type { Role, SessionEvent, SessionState, WireError } from '../api/types';
import type { MediaSignaling } from '../media/link';
import { applyEvent } from './state';

export interface LiveSession {
  state: SessionState | null;
  me: { participantId: string; role: Role } | null;
  link: LinkState;
  refusal: WireError | null;
  send(type: string, fields?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Stable for the page's life: a media link made from it needs no re-creation. */
  signaling: MediaSignaling;
}

export function useSession(token: string | null, sessionId: string | null): LiveSession {
  const [state, setState] = useState<SessionState | null>(null);
  const [me, setMe] = useState<LiveSession['me']>(null);
  const [link, setLink] = useState<LinkState>('connecting');
  const [refusal, setRefusal] = useState<WireError | null>(null);
  const socket = useRef<SessionSocket | null>(null);
  // Refs, not state: the media link reads them from its own callbacks, outside renders.
  const listeners = useRef(new Set<(event: SessionEvent) => void>());
  const welcomes = useRef(new Set<() => void>());
  const self = useRef<string | null>(null);

  useEffect(() => {
    if (!token || !sessionId) return;
    setState(null);
    setRefusal(null);
    const s = new SessionSocket(token, sessionId, {
      welcome(welcome, resumed) {
        self.current = welcome.participant_id;
        setMe({ participantId: welcome.participant_id, role: welcome.role });
        // A resumed link keeps what this page holds; the missed events follow.
        if (!resumed) setState(welcome.session);
        for (const listener of welcomes.current) listener();
      },
      event(event) {
        setState((current) => (current ? applyEvent(current, event) : current));
        for (const listener of listeners.current) listener(event);
      },
      state: setLink,
      fatal: setRefusal,
    });
    socket.current = s;
    s.connect();
    return () => {
      s.close();
      socket.current = null;
    };
  }, [token, sessionId]);

  const send = useMemo(
    () => (type: string, fields?: Record<string, unknown>) => {
      if (!socket.current) return Promise.reject(new Error('not connected'));
      return socket.current.send(type, fields);
    },
    [],
  );

  const signaling = useMemo<MediaSignaling>(
    () => ({
      send,
      onEvent(listener) {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
      onWelcome(listener) {
        welcomes.current.add(listener);
        return () => welcomes.current.delete(listener);
      },
      self: () => self.current,
    }),
    [send],
  );

  return { state, me, link, refusal, send, signaling };
}
