// A product card as the customer sees it: images, price with compare-at, a variant
// picker, stock and "Add to cart".

import { useMemo, useState } from 'preact/hooks';
import type { Card, Variant } from '../api/types';
import { number, t } from '../i18n';
import { ErrorNote, errorText, Price } from './common';

/** Option names in display order: the card's own list, else those of its variants. */
function optionNames(card: Card): string[] {
  if (card.option_names?.length) return card.option_names;
  const names: string[] = [];
  for (const v of card.variants) for (const n of Object.keys(v.options)) if (!names.includes(n)) names.push(n);
  return names;
}

function initialVariant(card: Card): Variant | undefined {
  return (
    card.variants.find((v) => v.variant_id === card.variant_id) ??
    card.variants.find((v) => v.available) ??
    card.variants[0]
  );
}

export function stockText(variant: Variant | undefined): string {
  if (!variant || !variant.available) return t('card.outOfStock');
  if (variant.stock === null) return t('card.inStock');
  if (variant.stock <= 5) return t('card.fewLeft', { count: number(variant.stock) });
  return t('card.inStock');
}

interface Props {
  card: Card & { note?: string | null };
  /** Adds the chosen variant; absent for a card that is only shown. */
  onAdd?(variantId: string): Promise<void>;
  disabled?: boolean;
}

export function ProductCard({ card, onAdd, disabled }: Props) {
  const names = useMemo(() => optionNames(card), [card]);
  const [chosen, setChosen] = useState<Record<string, string>>(() => ({ ...(initialVariant(card)?.options ?? {}) }));
  const [image, setImage] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState(false);

  const variant = card.variants.find((v) => names.every((n) => v.options[n] === chosen[n]));
  const valuesOf = (name: string) => [...new Set(card.variants.map((v) => v.options[name]).filter(Boolean))];
  const titleId = `card-${card.product_id}-${(card as { seq?: number }).seq ?? 0}`;

  const add = async () => {
    if (!onAdd || !variant) return;
    setBusy(true);
    setError(null);
    setAdded(false);
    try {
      await onAdd(variant.variant_id);
      setAdded(true);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="card" aria-labelledby={titleId} data-testid="product-card" data-product={card.product_id}>
      <div class="card-media">
        {card.images.length > 0 ? (
          <img src={card.images[image]} alt={card.title} loading="lazy" />
        ) : (
          <span class="card-noimage" aria-hidden="true" />
        )}
        {card.images.length > 1 && (
          <div class="thumbs">
            {card.images.map((src, i) => (
              <button
                type="button"
                key={src}
                class={i === image ? 'thumb current' : 'thumb'}
                aria-label={t('card.showImage', { n: i + 1, total: card.images.length })}
                aria-pressed={i === image}
                onClick={() => setImage(i)}
              >
                <img src={src} alt="" />
              </button>
            ))}
          </div>
        )}
      </div>
      <div class="card-body">
        {card.vendor && <p class="vendor">{card.vendor}</p>}
        <h3 id={titleId}>{card.title}</h3>
        <Price price={variant?.price ?? card.price} compareAt={variant ? variant.compare_at_price : card.compare_at_price} />
        {card.note && <p class="note">“{card.note}”</p>}
        {names.map((name) => (
          <label class="field" key={name}>
            <span>{name}</span>
            <select
              data-testid={`option-${name}`}
              value={chosen[name] ?? ''}
              onChange={(e) => {
                setAdded(false);
                setChosen({ ...chosen, [name]: (e.currentTarget as HTMLSelectElement).value });
              }}
            >
              {valuesOf(name).map((value) => (
                <option value={value} key={value}>
                  {value}
                </option>
              ))}
            </select>
          </label>
        ))}
        <p class={variant?.available ? 'stock' : 'stock out'} data-testid="stock">
          {variant ? stockText(variant) : t('card.unavailableCombination')}
        </p>
        {onAdd && (
          <button
            type="button"
            class="primary"
            data-testid="add-to-cart"
            disabled={disabled || busy || !variant?.available}
            onClick={add}
          >
            {busy ? t('card.adding') : t('card.addToCart')}
          </button>
        )}
        <p class="visually-hidden" role="status">
          {added ? t('card.added', { title: card.title }) : ''}
        </p>
        <ErrorNote error={error} />
      </div>
    </article>
  );
}
