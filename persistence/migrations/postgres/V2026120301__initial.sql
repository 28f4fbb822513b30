-- Vitrine production store, first schema. Same tables as the embedded store, with
-- Postgres types where they pay: timestamptz, jsonb payloads, bigint money and seqs,
-- text[] for tags and collections.

CREATE TABLE server_keys (
    name        text PRIMARY KEY,
    secret      bytea NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE tenants (
    tenant_id   text PRIMARY KEY,
    name        text NOT NULL,
    public_key  text NOT NULL UNIQUE,
    currency    text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE users (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    user_id     text NOT NULL,
    name        text NOT NULL,
    email       text NOT NULL,
    phone       text,
    roles       jsonb NOT NULL,
    collections jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    UNIQUE (tenant_id, email)
);

CREATE TABLE audit_log (
    tenant_id   text NOT NULL,
    id          bigserial PRIMARY KEY,
    actor       text NOT NULL,
    action      text NOT NULL,
    subject     text NOT NULL,
    at          timestamptz NOT NULL,
    detail      jsonb NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);

CREATE TABLE customers (
    tenant_id   text NOT NULL,
    customer_id text NOT NULL,
    name        text NOT NULL,
    name_folded text NOT NULL,
    email       text,
    phone       text,
    locale      text,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

CREATE TABLE sessions (
    tenant_id               text NOT NULL,
    session_id              text NOT NULL,
    status                  text NOT NULL,
    shopper_id              text,
    customer_id             text NOT NULL,
    customer_participant_id text NOT NULL,
    seq                     bigint NOT NULL,
    owner_epoch             bigint NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL,
    started_at              timestamptz,
    ended_at                timestamptz,
    PRIMARY KEY (tenant_id, session_id)
);
CREATE INDEX sessions_by_created ON sessions (tenant_id, created_at DESC, session_id DESC);

CREATE TABLE session_events (
    tenant_id      text NOT NULL,
    session_id     text NOT NULL,
    seq            bigint NOT NULL,
    kind           text NOT NULL,
    at             timestamptz NOT NULL,
    by_participant text,
    data           jsonb NOT NULL,
    PRIMARY KEY (tenant_id, session_id, seq)
);

CREATE TABLE session_snapshots (
    tenant_id   text NOT NULL,
    session_id  text NOT NULL,
    seq         bigint NOT NULL,
    state       jsonb NOT NULL,
    PRIMARY KEY (tenant_id, session_id)
);

CREATE TABLE command_results (
    tenant_id      text NOT NULL,
    session_id     text NOT NULL,
    participant_id text NOT NULL,
    command_id     text NOT NULL,
    reply          jsonb NOT NULL,
    at             timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, session_id, participant_id, command_id)
);
CREATE INDEX command_results_by_time ON command_results (tenant_id, session_id, at);

CREATE TABLE products (
    tenant_id    text NOT NULL,
    product_id   text NOT NULL,
    title        text NOT NULL,
    body_html    text NOT NULL,
    vendor       text NOT NULL,
    product_type text NOT NULL,
    tags         jsonb NOT NULL,
    collections  text[] NOT NULL,
    option_names jsonb NOT NULL,
    images       jsonb NOT NULL,
    status       text NOT NULL,
    search_text  text NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, product_id)
);

CREATE TABLE variants (
    tenant_id        text NOT NULL,
    variant_id       text NOT NULL,
    product_id       text NOT NULL,
    sku              text,
    option_values    jsonb NOT NULL,
    price_minor      bigint NOT NULL,
    compare_at_minor bigint,
    stock            bigint,
    inventory_policy text NOT NULL,
    position         integer NOT NULL,
    image            text,
    PRIMARY KEY (tenant_id, variant_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, product_id)
);
CREATE INDEX variants_by_product ON variants (tenant_id, product_id, position);

CREATE TABLE carts (
    tenant_id   text NOT NULL,
    cart_id     text NOT NULL,
    customer_id text NOT NULL,
    currency    text NOT NULL,
    version     bigint NOT NULL,
    status      text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, cart_id)
);
CREATE UNIQUE INDEX one_open_cart_per_customer ON carts (tenant_id, customer_id)
    WHERE status = 'open';

CREATE TABLE cart_lines (
    tenant_id   text NOT NULL,
    cart_id     text NOT NULL,
    variant_id  text NOT NULL,
    quantity    bigint NOT NULL,
    added_at    timestamptz NOT NULL,
    added_order bigserial,
    PRIMARY KEY (tenant_id, cart_id, variant_id)
);

CREATE TABLE commerce_ops (
    tenant_id   text NOT NULL,
    op_key      text NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, op_key)
);

CREATE TABLE orders (
    tenant_id   text NOT NULL,
    order_id    text NOT NULL,
    cart_id     text NOT NULL,
    session_id  text,
    customer_id text NOT NULL,
    lines       jsonb NOT NULL,
    total_minor bigint NOT NULL,
    currency    text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, order_id),
    UNIQUE (tenant_id, cart_id)
);

CREATE TABLE consumer_checkpoints (
    tenant_id   text NOT NULL,
    consumer    text NOT NULL,
    position    text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, consumer)
);
