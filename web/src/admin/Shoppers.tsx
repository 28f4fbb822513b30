// The tenant's shoppers: the list, a form to add one, and staff tokens for the console.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/http';
import type { Shopper } from '../api/types';
import { dateTime, t } from '../i18n';
import { ErrorNote, errorText } from '../ui/common';

const ROLES = ['shopper', 'manager', 'analyst', 'admin'] as const;

interface Draft {
  name: string;
  email: string;
  phone: string;
  collections: string;
  roles: string[];
}

const EMPTY: Draft = { name: '', email: '', phone: '', collections: '', roles: ['shopper'] };

type Problems = Partial<Record<keyof Draft, string>>;

function collectionsOf(text: string): string[] {
  return text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
}

/** The same rules the API applies, checked first so each field can say what is wrong. */
function validate(draft: Draft): Problems {
  const problems: Problems = {};
  const name = draft.name.trim();
  if (!name || [...name].length > 200) problems.name = t('shoppers.nameInvalid');
  const email = draft.email.trim();
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) problems.email = t('shoppers.emailInvalid');
  if (draft.phone.trim() && !/^[0-9 +\-().]{1,32}$/.test(draft.phone.trim())) problems.phone = t('shoppers.phoneInvalid');
  const collections = collectionsOf(draft.collections);
  if (collections.length > 50 || collections.some((c) => [...c].length > 100)) problems.collections = t('shoppers.collectionsInvalid');
  if (draft.roles.length === 0) problems.roles = t('shoppers.rolesRequired');
  return problems;
}

export function Shoppers({ token }: { token: string }) {
  const [shoppers, setShoppers] = useState<Shopper[] | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [problems, setProblems] = useState<Problems>({});
  const [error, setError] = useState<string | null>(null);
  const [issued, setIssued] = useState<{ name: string; token: string; expires: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const tokenField = useRef<HTMLInputElement>(null);

  // A new token is selected, ready to copy.
  useEffect(() => {
    tokenField.current?.focus();
    tokenField.current?.select();
  }, [issued]);

  const load = () =>
    api<{ shoppers: Shopper[] }>('/v1/shoppers', { token })
      .then((r) => setShoppers(r.shoppers))
      .catch((e) => setError(errorText(e)));

  useEffect(() => {
    void load();
  }, [token]);

  const create = async (e: Event) => {
    e.preventDefault();
    const found = validate(draft);
    setProblems(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setError(null);
    try {
      await api<Shopper>('/v1/shoppers', {
        token,
        body: {
          name: draft.name.trim(),
          email: draft.email.trim(),
          ...(draft.phone.trim() ? { phone: draft.phone.trim() } : {}),
          collections: collectionsOf(draft.collections),
          roles: draft.roles,
        },
      });
      setDraft(EMPTY);
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const issue = async (shopper: Shopper) => {
    setError(null);
    try {
      const r = await api<{ token: string; expires_at: string }>(`/v1/shoppers/${encodeURIComponent(shopper.shopper_id)}/tokens`, {
        token,
        method: 'POST',
      });
      setIssued({ name: shopper.name, token: r.token, expires: r.expires_at });
    } catch (err) {
      setError(errorText(err));
    }
  };

  const input = (name: 'name' | 'email' | 'phone' | 'collections', type = 'text') => (
    <label class="field">
      <span>{t(`shoppers.${name}`)}</span>
      <input
        type={type}
        data-testid={`shopper-${name}`}
        value={draft[name]}
        aria-invalid={problems[name] ? true : undefined}
        aria-describedby={problems[name] ? `${name}-problem` : undefined}
        onInput={(e) => setDraft({ ...draft, [name]: (e.currentTarget as HTMLInputElement).value })}
      />
      {problems[name] && (
        <span class="field-error" id={`${name}-problem`}>
          {problems[name]}
        </span>
      )}
    </label>
  );

  return (
    <main class="admin-main" data-testid="shoppers">
      <h1>{t('admin.shoppers')}</h1>
      <ErrorNote error={error} />
      {issued && (
        <section class="issued" aria-labelledby="issued-title" data-testid="issued-token">
          <h2 id="issued-title">{t('shoppers.tokenFor', { name: issued.name })}</h2>
          <input ref={tokenField} readOnly value={issued.token} aria-label={t('shoppers.token')} />
          <p class="muted">{t('shoppers.tokenHint', { expires: dateTime(issued.expires) })}</p>
        </section>
      )}
      {shoppers === null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('shoppers.name')}</th>
                <th scope="col">{t('shoppers.email')}</th>
                <th scope="col">{t('shoppers.collectionsColumn')}</th>
                <th scope="col">{t('shoppers.roles')}</th>
                <th scope="col">{t('shoppers.created')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('shoppers.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shoppers.map((s) => (
                <tr key={s.shopper_id} data-testid="shopper-row">
                  <td>{s.name}</td>
                  <td>{s.email}</td>
                  <td>{s.collections.join(', ') || '—'}</td>
                  <td>{s.roles.map((r) => t(`shoppers.role.${r as (typeof ROLES)[number]}`)).join(', ')}</td>
                  <td>{dateTime(s.created_at)}</td>
                  <td>
                    <button type="button" onClick={() => issue(s)} aria-label={t('shoppers.issueFor', { name: s.name })}>
                      {t('shoppers.issue')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section aria-labelledby="new-shopper-title">
        <h2 id="new-shopper-title">{t('shoppers.new')}</h2>
        <form class="shopper-form" onSubmit={create} noValidate>
          {input('name')}
          {input('email', 'email')}
          {input('phone', 'tel')}
          {input('collections')}
          <fieldset aria-describedby={problems.roles ? 'roles-problem' : undefined}>
            <legend>{t('shoppers.roles')}</legend>
            {ROLES.map((role) => (
              <label key={role} class="check">
                <input
                  type="checkbox"
                  checked={draft.roles.includes(role)}
                  onChange={(e) => {
                    const on = (e.currentTarget as HTMLInputElement).checked;
                    setDraft({ ...draft, roles: on ? [...draft.roles, role] : draft.roles.filter((r) => r !== role) });
                  }}
                />
                {t(`shoppers.role.${role}`)}
              </label>
            ))}
            {problems.roles && (
              <span class="field-error" id="roles-problem">
                {problems.roles}
              </span>
            )}
          </fieldset>
          <button type="submit" class="primary" data-testid="shopper-create" disabled={busy}>
            {t('shoppers.create')}
          </button>
        </form>
      </section>
    </main>
  );
}
