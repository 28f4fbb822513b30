// One session for the admin: its state, participants, cart and orders, survey, the event
// timeline, and the chat transcript as a download.

import { useEffect, useState } from 'preact/hooks';
import { api, apiText } from '../api/http';
import type { SessionState, StoredEvent } from '../api/types';
import { dateTime, money, number, t } from '../i18n';
import { participantName } from '../session/state';
import { ErrorNote, errorText } from '../ui/common';

/** Events read per request of the timeline. */
const EVENTS_PAGE = 200;

/** A short, language-neutral summary of an event's payload for the timeline. */
function summary(event: StoredEvent): string {
  const d = event.data as Record<string, any>;
  switch (event.kind) {
    case 'product.shared':
      return d.card?.title ?? '';
    case 'product.searched':
      return `“${d.query ?? ''}” → ${number(Number(d.results ?? 0))}`;
    case 'cart.updated':
      return d.cart ? money(d.cart.subtotal) : '';
    case 'order.created':
      return d.order ? `${d.order.order_id} · ${money(d.order.total)}` : '';
    case 'chat.message':
      return String(d.text ?? '');
    case 'consent.recorded':
      return String(d.consent ?? '');
    case 'participant.joined':
      return d.participant?.name ?? '';
    case 'survey.completed':
      return `${number(Number(d.score))}/10${d.comment ? ` · ${d.comment}` : ''}`;
    case 'session.ended':
    case 'session.cancelled':
      return d.reason ?? '';
    default:
      return '';
  }
}

export function SessionDetail({ token, sessionId }: { token: string; sessionId: string }) {
  const [state, setState] = useState<SessionState | null>(null);
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [nextAfter, setNextAfter] = useState<number | null>(0);
  const [error, setError] = useState<string | null>(null);

  const path = `/v1/sessions/${encodeURIComponent(sessionId)}`;

  const loadEvents = async (after: number) => {
    try {
      const page = await api<{ events: StoredEvent[]; next_after: number | null }>(
        `${path}/events?after=${after}&limit=${EVENTS_PAGE}`,
        { token },
      );
      setEvents((current) => (after === 0 ? page.events : [...current, ...page.events]));
      setNextAfter(page.next_after);
    } catch (e) {
      setError(errorText(e));
    }
  };

  useEffect(() => {
    api<SessionState>(path, { token })
      .then(setState)
      .catch((e) => setError(errorText(e)));
    void loadEvents(0);
  }, [sessionId]);

  const download = async () => {
    setError(null);
    try {
      const text = await apiText(`${path}/transcript`, { token });
      const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `transcript-${sessionId}.txt`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <main class="admin-main" data-testid="session-detail">
      <p>
        <a href="#/sessions">← {t('admin.sessions')}</a>
      </p>
      <ErrorNote error={error} />
      {!state ? (
        !error && <p class="muted">{t('common.loading')}</p>
      ) : (
        <>
          <h1>
            {participantName(state, state.participants.find((p) => p.role === 'customer')?.participant_id ?? null) ||
              state.session_id}{' '}
            <span class={`status status-${state.status}`} data-testid="detail-status">
              {t(`status.${state.status}`)}
            </span>
          </h1>
          <dl class="facts">
            <dt>{t('admin.sessionId')}</dt>
            <dd>
              <code>{state.session_id}</code>
            </dd>
            <dt>{t('admin.created')}</dt>
            <dd>{dateTime(state.created_at)}</dd>
            <dt>{t('admin.started')}</dt>
            <dd>{dateTime(state.started_at) || '—'}</dd>
            <dt>{t('admin.ended')}</dt>
            <dd>{dateTime(state.ended_at) || '—'}</dd>
            <dt>{t('admin.survey')}</dt>
            <dd data-testid="detail-survey">
              {state.survey ? `${number(state.survey.score)}/10${state.survey.comment ? ` · ${state.survey.comment}` : ''}` : '—'}
            </dd>
          </dl>
          <section aria-labelledby="participants-title">
            <h2 id="participants-title">{t('admin.participants')}</h2>
            <ul>
              {state.participants.map((p) => (
                <li key={p.participant_id}>
                  {p.name} · {t(`role.${p.role}`)}
                  {(state.consents[p.participant_id] ?? []).length > 0 &&
                    ` · ${t('admin.consented', { kinds: state.consents[p.participant_id].join(', ') })}`}
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="orders-title">
            <h2 id="orders-title">{t('admin.orders')}</h2>
            {state.orders.length === 0 ? (
              <p class="muted">—</p>
            ) : (
              <ul>
                {state.orders.map((o) => (
                  <li key={o.order_id}>
                    <code>{o.order_id}</code> · {money(o.total)}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="transcript-title">
            <h2 id="transcript-title">{t('admin.transcript')}</h2>
            <p class="muted">{t('admin.messages', { count: number(state.chat.length) })}</p>
            <button type="button" data-testid="download-transcript" onClick={download}>
              {t('admin.downloadTranscript')}
            </button>
          </section>
        </>
      )}
      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">{t('admin.timeline')}</h2>
        <ol class="timeline" data-testid="timeline">
          {events.map((event) => (
            <li key={event.seq} data-kind={event.kind}>
              <span class="seq">#{event.seq}</span>
              <time dateTime={event.at}>{dateTime(event.at)}</time>
              <code>{event.kind}</code>
              <span class="muted">{state ? participantName(state, event.by) : ''}</span>
              <span>{summary(event)}</span>
            </li>
          ))}
        </ol>
        {nextAfter !== null && nextAfter > 0 && (
          <button type="button" onClick={() => loadEvents(nextAfter)}>
            {t('admin.more')}
          </button>
        )}
      </section>
    </main>
  );
}
