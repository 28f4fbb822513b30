// `/widget?key={public key}`: the customer experience the embed snippet opens. After the
// privacy notice the customer gives their name, the page asks for a session with the
// tenant's public key, and the call page takes over. A page without a key, or with one
// the server does not know, shows that the shop's setup is wrong.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api/http';
import { locale, t } from '../i18n';
import { ErrorNote, errorText } from '../ui/common';
import { Consent, Declined, rememberConsent } from './Consent';
import { storeToken } from './CustomerApp';
import { CustomerCall } from './CustomerCall';

interface Created {
  session_id: string;
  customer_token: string;
}

const MAX_NAME_CHARS = 200;

export function WidgetApp() {
  // Read once: the address changes to the call's own when the session starts.
  const [params] = useState(() => new URLSearchParams(location.search));
  const key = params.get('key');
  const [phase, setPhase] = useState<'consent' | 'declined' | 'form'>('consent');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [errors, setErrors] = useState<{ name?: string; email?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const [joined, setJoined] = useState<Created | null>(null);
  const [keyRefused, setKeyRefused] = useState(false);

  if (!key || keyRefused) return <Misconfigured />;
  if (joined) return <CustomerCall token={joined.customer_token} sessionId={joined.session_id} onLanguage={() => setJoined({ ...joined })} />;
  if (phase === 'consent') return <Consent onAccept={() => setPhase('form')} onDecline={() => setPhase('declined')} />;
  if (phase === 'declined') return <Declined onReview={() => setPhase('consent')} />;

  const submit = async (e: Event) => {
    e.preventDefault();
    const found: typeof errors = {};
    const trimmed = name.trim();
    if (!trimmed) found.name = t('widget.nameRequired');
    else if ([...trimmed].length > MAX_NAME_CHARS) found.name = t('widget.nameTooLong', { max: MAX_NAME_CHARS });
    const mail = email.trim();
    if (mail && (!/^[^\s@]+@[^\s@]+$/.test(mail) || mail.length > 254)) found.email = t('widget.emailInvalid');
    setErrors(found);
    if (found.name || found.email) return;

    setBusy(true);
    const context: Record<string, string> = {};
    for (const field of ['product_id', 'collection'] as const) {
      const value = params.get(field);
      if (value) context[field] = value.slice(0, 200);
    }
    try {
      const created = await api<Created>('/v1/sessions', {
        publicKey: key,
        body: {
          customer: { name: trimmed, ...(mail ? { email: mail } : {}), locale: locale() },
          ...(Object.keys(context).length ? { context } : {}),
        },
      });
      // The call goes on in this page, with the token in memory: a widget inside another
      // site's frame may have no storage at all. The address becomes the call's own, so a
      // reload returns to the call; without storage it carries the token itself.
      const stored = storeToken(created.session_id, created.customer_token);
      rememberConsent(created.session_id);
      const next = new URL(`/s/${encodeURIComponent(created.session_id)}`, location.href);
      const lang = params.get('lang');
      if (lang) next.searchParams.set('lang', lang);
      if (!stored) next.searchParams.set('t', created.customer_token);
      history.replaceState(null, '', next);
      setJoined(created);
    } catch (err) {
      // The request carries no token, so a 401 is the server not knowing the shop's key.
      if (err instanceof ApiError && err.status === 401) return setKeyRefused(true);
      setErrors({ form: errorText(err) });
      setBusy(false);
    }
  };

  return (
    <main class="screen" data-testid="widget-form" aria-labelledby="widget-title">
      <h1 id="widget-title">{t('widget.title')}</h1>
      <p>{t('widget.intro')}</p>
      <form onSubmit={submit} noValidate>
        <label class="field">
          <span>{t('widget.name')}</span>
          <input
            data-testid="widget-name"
            value={name}
            autocomplete="name"
            required
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={errors.name ? 'name-error' : undefined}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
          {errors.name && (
            <span class="field-error" id="name-error">
              {errors.name}
            </span>
          )}
        </label>
        <label class="field">
          <span>{t('widget.email')}</span>
          <input
            data-testid="widget-email"
            type="email"
            value={email}
            autocomplete="email"
            aria-invalid={errors.email ? true : undefined}
            aria-describedby={errors.email ? 'email-error' : undefined}
            onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)}
          />
          {errors.email && (
            <span class="field-error" id="email-error">
              {errors.email}
            </span>
          )}
        </label>
        <ErrorNote error={errors.form ?? null} />
        <button type="submit" class="primary" data-testid="widget-start" disabled={busy}>
          {busy ? t('widget.starting') : t('widget.start')}
        </button>
      </form>
    </main>
  );
}

function Misconfigured() {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main class="screen" data-testid="widget-misconfigured" aria-labelledby="misconfigured-title">
      <h1 id="misconfigured-title" tabIndex={-1} ref={heading}>
        {t('widget.misconfiguredTitle')}
      </h1>
      <p>{t('widget.misconfiguredBody')}</p>
    </main>
  );
}
