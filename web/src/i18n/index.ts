// UI strings in English, Spanish, Portuguese and Catalan, and locale-aware formatting of
// money, dates and times. The language comes from `?lang=`, else from the browser.

import en from './en.json';
import es from './es.json';
import pt from './pt.json';
import ca from './ca.json';
import type { Money } from '../api/types';

export type Lang = 'en' | 'es' | 'pt' | 'ca';
export type MessageKey = keyof typeof en;

const CATALOGS: Record<Lang, Record<MessageKey, string>> = { en, es, pt, ca };
export const LANGS: Lang[] = ['en', 'es', 'pt', 'ca'];

function primary(tag: string): string {
  return tag.toLowerCase().split(/[-_]/)[0];
}

function isLang(tag: string): tag is Lang {
  return (LANGS as string[]).includes(tag);
}

/** The language to show, and the full locale used by Intl (with its region, if known). */
export function pickLanguage(param: string | null, browser: readonly string[]): { lang: Lang; locale: string } {
  if (param && isLang(primary(param))) {
    const lang = primary(param) as Lang;
    return { lang, locale: param.includes('-') ? param : lang };
  }
  for (const tag of browser) {
    const lang = primary(tag);
    if (isLang(lang)) return { lang, locale: tag };
  }
  return { lang: 'en', locale: 'en' };
}

let current = pickLanguage(new URLSearchParams(location.search).get('lang'), navigator.languages ?? []);

export function lang(): Lang {
  return current.lang;
}

export function locale(): string {
  return current.locale;
}

export function setLanguage(lang: Lang): void {
  current = { lang, locale: lang };
  document.documentElement.lang = lang;
}

document.documentElement.lang = current.lang;

/** The message for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = CATALOGS[current.lang][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function money(value: Money | null | undefined): string {
  if (!value) return '';
  const cacheKey = `${current.locale}|${value.currency}`;
  let format = moneyFormats.get(cacheKey);
  if (!format) {
    format = new Intl.NumberFormat(current.locale, { style: 'currency', currency: value.currency });
    moneyFormats.set(cacheKey, format);
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(value.amount_minor / 10 ** digits);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(current.locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(current.locale, { timeStyle: 'short' }).format(new Date(iso));
}

export function number(value: number): string {
  return new Intl.NumberFormat(current.locale).format(value);
}

/** The name of a language in that language, for the language picker. */
export function languageName(lang: Lang): string {
  return new Intl.DisplayNames([lang], { type: 'language' }).of(lang) ?? lang;
}
