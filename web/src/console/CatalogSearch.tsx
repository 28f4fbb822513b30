// Catalog search for the shopper, over the session so the search is on its record. The
// server ranks the shopper's own collections first; each result is pushed in one click.

import { useState } from 'preact/hooks';
import type { Card } from '../api/types';
import { t } from '../i18n';
import { ErrorNote, errorText, Price } from '../ui/common';
import { stockText } from '../ui/ProductCard';

/** Longest query and note the server accepts, in characters. */
const MAX_TEXT_CHARS = 500;

interface Props {
  search(query: string): Promise<Card[]>;
  push(productId: string, note: string | null): Promise<unknown>;
  canPush: boolean;
}

export function CatalogSearch({ search, push, canPush }: Props) {
  const [text, setText] = useState('');
  const [note, setNote] = useState('');
  const [results, setResults] = useState<Card[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pushed, setPushed] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Products whose push awaits its reply: their button stays disabled, so a double click
  // shares a card once.
  const [pushing, setPushing] = useState<ReadonlySet<string>>(new Set());

  const submit = async (e: Event) => {
    e.preventDefault();
    if ([...text].length > MAX_TEXT_CHARS) return setError(t('search.tooLong', { max: MAX_TEXT_CHARS }));
    setBusy(true);
    setError(null);
    try {
      setResults(await search(text.trim()));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const pushCard = async (card: Card) => {
    if ([...note].length > MAX_TEXT_CHARS) return setError(t('search.noteTooLong', { max: MAX_TEXT_CHARS }));
    setError(null);
    setPushing((ids) => new Set(ids).add(card.product_id));
    try {
      await push(card.product_id, note.trim() || null);
      setPushed(card.title);
      setNote('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setPushing((ids) => {
        const rest = new Set(ids);
        rest.delete(card.product_id);
        return rest;
      });
    }
  };

  return (
    <section class="search" aria-labelledby="search-title" data-testid="catalog-search">
      <h2 id="search-title">{t('search.title')}</h2>
      <form role="search" class="search-form" onSubmit={submit} noValidate>
        <label class="visually-hidden" for="search-input">
          {t('search.placeholder')}
        </label>
        <input
          id="search-input"
          data-testid="search-input"
          type="search"
          value={text}
          placeholder={t('search.placeholder')}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit" data-testid="search-submit" disabled={busy}>
          {t('search.submit')}
        </button>
      </form>
      <label class="field">
        <span>{t('search.note')}</span>
        <input
          data-testid="push-note"
          value={note}
          maxLength={MAX_TEXT_CHARS}
          onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      {!canPush && <p class="hint">{t('search.startToPush')}</p>}
      <ErrorNote error={error} />
      <p class="visually-hidden" role="status">
        {pushed ? t('search.pushed', { title: pushed }) : ''}
      </p>
      {results !== null && results.length === 0 && <p class="muted">{t('search.noResults')}</p>}
      {results && results.length > 0 && (
        <ul class="results">
          {results.map((card) => (
            <li key={card.product_id} data-testid="search-result" data-product={card.product_id}>
              {card.images[0] ? <img src={card.images[0]} alt="" loading="lazy" /> : <span class="card-noimage" />}
              <span class="result-text">
                <strong>{card.title}</strong>
                <Price price={card.price} compareAt={card.compare_at_price} />
                <span class="muted">{stockText(card.variants.find((v) => v.available) ?? card.variants[0])}</span>
              </span>
              <button
                type="button"
                class="primary"
                data-testid="push"
                disabled={!canPush || pushing.has(card.product_id)}
                aria-label={t('search.pushLabel', { title: card.title })}
                onClick={() => pushCard(card)}
              >
                {t('search.push')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
