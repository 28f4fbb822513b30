// Sign-in for staff pages: a staff token, checked against the API before it is kept.

import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { ApiError } from '../api/http';
import { ErrorNote, errorText } from './common';

interface Props {
  title: string;
  /** Resolves when the API accepts the token; rejects with the API's answer. */
  check(token: string): Promise<void>;
  onSignedIn(token: string): void;
}

export function StaffLogin({ title, check, onSignedIn }: Props) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) return setError(t('login.tokenRequired'));
    setBusy(true);
    setError(null);
    try {
      await check(value);
      onSignedIn(value);
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError(status === 401 ? t('login.tokenRejected') : status === 403 ? t('login.tokenForbidden') : errorText(err));
      setBusy(false);
    }
  };

  return (
    <main class="screen" data-testid="login" aria-labelledby="login-title">
      <h1 id="login-title">{title}</h1>
      <form onSubmit={submit} noValidate>
        <label class="field">
          <span>{t('login.token')}</span>
          <input
            data-testid="login-token"
            type="password"
            autocomplete="off"
            value={token}
            aria-invalid={error ? true : undefined}
            onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
          />
          <span class="hint">{t('login.tokenHint')}</span>
        </label>
        <ErrorNote error={error} />
        <button type="submit" class="primary" data-testid="login-submit" disabled={busy}>
          {t('login.signIn')}
        </button>
      </form>
    </main>
  );
}

/** A token kept in this browser for one staff page. */
export function storedToken(page: string): string | null {
  try {
    return localStorage.getItem(`vitrine.${page}.token`);
  } catch {
    return null;
  }
}

export function keepToken(page: string, token: string | null): void {
  try {
    if (token) localStorage.setItem(`vitrine.${page}.token`, token);
    else localStorage.removeItem(`vitrine.${page}.token`);
  } catch {
    // Without storage the user signs in again after a reload.
  }
}

/** What a staff token says about its bearer (read, not verified: the server verifies). */
export function staffOf(token: string): { userId: string; name: string } | null {
  try {
    const payload = token.split('.')[1];
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const json = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return typeof json.sub === 'string' ? { userId: json.sub, name: String(json.name ?? '') } : null;
  } catch {
    return null;
  }
}
