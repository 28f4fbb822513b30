// The wire shapes this app reads, as docs/protocol.md describes them.

export interface Money {
  amount_minor: number;
  currency: string;
}

export interface Variant {
  variant_id: string;
  sku: string | null;
  options: Record<string, string>;
  price: Money;
  compare_at_price: Money | null;
  available: boolean;
  stock: number | null;
}

export interface Card {
  product_id: string;
  title: string;
  vendor: string | null;
  images: string[];
  price: Money;
  compare_at_price: Money | null;
  collection: string | null;
  variants: Variant[];
  in_stock: boolean;
  option_names?: string[];
  variant_id?: string | null;
}

/** A card as the session holds it: the card plus the event that shared it. */
export interface SharedCard extends Card {
  seq: number;
  by: string | null;
  note?: string | null;
}

export interface CartLine {
  variant_id: string;
  product_id: string;
  title: string;
  quantity: number;
  unit_price: Money;
  line_total: Money;
}

export interface Cart {
  cart_id: string;
  version: number;
  lines: CartLine[];
  subtotal: Money;
  currency: string;
}

export interface Order {
  order_id: string;
  cart_id: string;
  lines: CartLine[];
  total: Money;
  currency: string;
}

export type Role = 'shopper' | 'customer' | 'observer';

export interface Participant {
  participant_id: string;
  role: Role;
  name: string;
  connected?: boolean;
}

export interface ChatLine {
  seq: number;
  by: string | null;
  text: string;
  at: string;
}

export interface Survey {
  by: string | null;
  score: number;
  comment: string | null;
  at: string;
}

export type SessionStatus = 'requested' | 'matched' | 'scheduled' | 'live' | 'ended' | 'cancelled';

export const STATUSES: SessionStatus[] = ['requested', 'matched', 'scheduled', 'live', 'ended', 'cancelled'];

export interface SessionState {
  session_id: string;
  tenant_id: string;
  status: SessionStatus;
  seq: number;
  shopper_id: string | null;
  participants: Participant[];
  cards: SharedCard[];
  cart: Cart;
  order: Order | null;
  orders: Order[];
  chat: ChatLine[];
  consents: Record<string, string[]>;
  survey: Survey | null;
  created_at: string;
  scheduled_for: string | null;
  started_at: string | null;
  ended_at: string | null;
}

export interface WireError {
  code: string;
  message: string;
}

export interface SessionEvent {
  type: 'event';
  seq: number;
  at: string;
  kind: string;
  by: string | null;
  data: Record<string, unknown>;
}

export interface Welcome {
  type: 'welcome';
  participant_id: string;
  role: Role;
  seq: number;
  session: SessionState;
}

export interface Reply {
  type: 'reply';
  id: string;
  ok: boolean;
  seq?: number;
  data?: Record<string, unknown>;
  error?: WireError;
}

/** A row of `GET /v1/sessions`. */
export interface SessionRow {
  session_id: string;
  status: SessionStatus;
  shopper_id: string | null;
  customer_name: string | null;
  seq: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

export interface Shopper {
  shopper_id: string;
  name: string;
  email: string;
  phone: string | null;
  collections: string[];
  roles: string[];
  modules: string[];
  created_at: string;
}

export interface StoredEvent {
  seq: number;
  kind: string;
  at: string;
  by: string | null;
  data: Record<string, unknown>;
}
