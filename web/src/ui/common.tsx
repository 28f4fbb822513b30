// Small pieces every page uses: prices, error notes, the language picker, a video element.

import { useEffect, useRef } from 'preact/hooks';
import type { Money } from '../api/types';
import { lang, languageName, LANGS, money, setLanguage, t, type Lang, type MessageKey } from '../i18n';
import { CommandFailed } from '../api/socket';
import { ApiError } from '../api/http';

export function Price({ price, compareAt }: { price: Money; compareAt?: Money | null }) {
  const reduced = compareAt && compareAt.amount_minor > price.amount_minor;
  return (
    <span class="price" data-testid="price">
      <span class={reduced ? 'price-now sale' : 'price-now'}>{money(price)}</span>
      {reduced && (
        <s class="price-was" aria-label={t('card.compareAt', { price: money(compareAt) })}>
          {money(compareAt)}
        </s>
      )}
    </span>
  );
}

const KNOWN_CODES = new Set([
  'unauthorized',
  'forbidden',
  'not_found',
  'invalid',
  'out_of_stock',
  'conflict',
  'rate_limited',
  'too_large',
  'session_ended',
  'unavailable',
]);

/** A message for the user from a failed command or request. */
export function errorText(error: unknown): string {
  const code = error instanceof CommandFailed || error instanceof ApiError ? error.code : 'internal';
  if (KNOWN_CODES.has(code)) return t(`error.${code}` as MessageKey);
  return t('error.internal');
}

export function ErrorNote({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p class="error-note" role="alert">
      {error}
    </p>
  );
}

export function LanguagePicker({ onChange }: { onChange(lang: Lang): void }) {
  return (
    <label class="lang-picker">
      <span class="visually-hidden">{t('common.language')}</span>
      <select
        data-testid="language"
        value={lang()}
        onChange={(e) => {
          const next = (e.currentTarget as HTMLSelectElement).value as Lang;
          setLanguage(next);
          const url = new URL(location.href);
          url.searchParams.set('lang', next);
          history.replaceState(history.state, '', url);
          onChange(next);
        }}
      >
        {LANGS.map((l) => (
          <option value={l} key={l}>
            {languageName(l)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A stream in a <video>; muted unless `audible`, so one's own microphone never echoes. */
export function VideoView({
  stream,
  mirrored,
  audible,
  label,
}: {
  stream: MediaStream | null;
  mirrored?: boolean;
  audible?: boolean;
  label: string;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== stream) ref.current.srcObject = stream;
  }, [stream]);
  return (
    <video
      ref={ref}
      class={mirrored ? 'mirrored' : undefined}
      autoplay
      muted={!audible}
      playsInline
      aria-label={label}
    />
  );
}

export function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase() ?? '')
    .join('');
}
