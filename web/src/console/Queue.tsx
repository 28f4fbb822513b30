// The console's start screen: customers waiting for a shopper, and this shopper's own
// open sessions. Refreshed every few seconds.

import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api/http';
import type { SessionRow } from '../api/types';
import { dateTime, t } from '../i18n';
import { ErrorNote, errorText } from '../ui/common';

/** How often the queue is read again. */
const REFRESH_MS = 3000;

interface Props {
  token: string;
  userId: string | null;
  onOpen(sessionId: string): void;
}

export function Queue({ token, userId, onOpen }: Props) {
  const [waiting, setWaiting] = useState<SessionRow[] | null>(null);
  const [mine, setMine] = useState<SessionRow[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const queue = await api<{ sessions: SessionRow[] }>(`/v1/sessions${query({ status: 'requested', limit: 50 })}`, { token });
        const own = userId
          ? await api<{ sessions: SessionRow[] }>(`/v1/sessions${query({ shopper_id: userId, limit: 20 })}`, { token })
          : { sessions: [] };
        if (stop) return;
        // Oldest first: the customer who waited longest is served first.
        setWaiting([...queue.sessions].reverse());
        setMine(own.sessions.filter((s) => s.status === 'matched' || s.status === 'live' || s.status === 'scheduled'));
        setError(null);
      } catch (e) {
        if (!stop) setError(errorText(e));
      }
    };
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [token, userId]);

  return (
    <main class="queue" data-testid="queue">
      <section aria-labelledby="queue-title">
        <h1 id="queue-title">{t('console.queueTitle')}</h1>
        <ErrorNote error={error} />
        {waiting === null ? (
          <p class="muted">{t('common.loading')}</p>
        ) : waiting.length === 0 ? (
          <p class="muted" data-testid="queue-empty">
            {t('console.queueEmpty')}
          </p>
        ) : (
          <ul class="rows">
            {waiting.map((row) => (
              <li key={row.session_id} data-testid="queue-row" data-session={row.session_id}>
                <span>
                  <strong>{row.customer_name ?? t('common.customer')}</strong>
                  <span class="muted"> · {t('console.waitingSince', { time: dateTime(row.created_at) })}</span>
                </span>
                <button type="button" class="primary" data-testid="accept" onClick={() => onOpen(row.session_id)}>
                  {t('console.accept')}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      {mine.length > 0 && (
        <section aria-labelledby="mine-title">
          <h2 id="mine-title">{t('console.mySessions')}</h2>
          <ul class="rows">
            {mine.map((row) => (
              <li key={row.session_id} data-testid="my-session" data-session={row.session_id}>
                <span>
                  <strong>{row.customer_name ?? t('common.customer')}</strong>
                  <span class="muted"> · {t(`status.${row.status}`)}</span>
                </span>
                <button type="button" onClick={() => onOpen(row.session_id)}>
                  {t('console.open')}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
