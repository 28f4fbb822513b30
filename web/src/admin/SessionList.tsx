// The tenant's sessions, newest first, filtered by status, shopper, customer and dates.

import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api/http';
import { STATUSES, type SessionRow, type Shopper } from '../api/types';
import { dateTime, t } from '../i18n';
import { ErrorNote, errorText } from '../ui/common';

interface Filters {
  status: string;
  shopper_id: string;
  q: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { status: '', shopper_id: '', q: '', from: '', to: '' };
const PAGE = 25;

/** The start of a local calendar day, as the API's UTC time. */
function dayStart(day: string, offsetDays = 0): string | undefined {
  if (!day) return undefined;
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + offsetDays).toISOString();
}

export function SessionList({ token }: { token: string }) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [rows, setRows] = useState<SessionRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [shoppers, setShoppers] = useState<Shopper[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);

  const load = async (f: Filters, after: string | null) => {
    setError(null);
    try {
      const page = await api<{ sessions: SessionRow[]; next_cursor: string | null }>(
        `/v1/sessions${query({
          status: f.status,
          shopper_id: f.shopper_id,
          q: f.q.trim(),
          from: dayStart(f.from),
          // "To" includes the whole day it names.
          to: dayStart(f.to, 1),
          limit: PAGE,
          cursor: after,
        })}`,
        { token },
      );
      setRows((current) => (after && current ? [...current, ...page.sessions] : page.sessions));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(errorText(e));
    }
  };

  useEffect(() => {
    void load(filters, null);
  }, [filters]);

  useEffect(() => {
    api<{ shoppers: Shopper[] }>('/v1/shoppers', { token })
      .then((r) => setShoppers(r.shoppers))
      .catch(() => setShoppers([]));
  }, [token]);

  const apply = (e: Event) => {
    e.preventDefault();
    if (draft.q.length > 200) return setFormError(t('admin.queryTooLong'));
    if (draft.from && draft.to && draft.from > draft.to) return setFormError(t('admin.datesReversed'));
    setFormError(null);
    setFilters({ ...draft });
  };

  const shopperName = (id: string | null) => shoppers.find((s) => s.shopper_id === id)?.name ?? id ?? '—';
  const field = (name: keyof Filters) => ({
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.currentTarget as HTMLInputElement).value }),
  });

  return (
    <main class="admin-main" data-testid="session-list">
      <h1>{t('admin.sessions')}</h1>
      <form class="filters" onSubmit={apply} noValidate aria-label={t('admin.filters')}>
        <label class="field">
          <span>{t('admin.status')}</span>
          <select data-testid="filter-status" {...field('status')} onChange={field('status').onInput}>
            <option value="">{t('admin.any')}</option>
            {STATUSES.map((s) => (
              <option value={s} key={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('admin.shopper')}</span>
          <select data-testid="filter-shopper" {...field('shopper_id')} onChange={field('shopper_id').onInput}>
            <option value="">{t('admin.any')}</option>
            {shoppers.map((s) => (
              <option value={s.shopper_id} key={s.shopper_id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('admin.customerSearch')}</span>
          <input data-testid="filter-q" type="search" maxLength={200} {...field('q')} />
        </label>
        <label class="field">
          <span>{t('admin.from')}</span>
          <input type="date" data-testid="filter-from" {...field('from')} />
        </label>
        <label class="field">
          <span>{t('admin.to')}</span>
          <input type="date" data-testid="filter-to" {...field('to')} />
        </label>
        <div class="actions">
          <button type="submit" class="primary" data-testid="filter-apply">
            {t('admin.apply')}
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
              setFormError(null);
            }}
          >
            {t('admin.clear')}
          </button>
        </div>
        <ErrorNote error={formError} />
      </form>
      <ErrorNote error={error} />
      {rows === null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : rows.length === 0 ? (
        <p class="muted" data-testid="no-sessions">
          {t('admin.noSessions')}
        </p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('admin.customer')}</th>
                <th scope="col">{t('admin.status')}</th>
                <th scope="col">{t('admin.shopper')}</th>
                <th scope="col">{t('admin.created')}</th>
                <th scope="col">{t('admin.ended')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.session_id} data-testid="session-row" data-session={row.session_id}>
                  <td>
                    <a href={`#/sessions/${encodeURIComponent(row.session_id)}`}>{row.customer_name ?? row.session_id}</a>
                  </td>
                  <td>
                    <span class={`status status-${row.status}`}>{t(`status.${row.status}`)}</span>
                  </td>
                  <td>{shopperName(row.shopper_id)}</td>
                  <td>{dateTime(row.created_at)}</td>
                  <td>{dateTime(row.ended_at) || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" onClick={() => load(filters, cursor)}>
          {t('admin.more')}
        </button>
      )}
    </main>
  );
}
