-- Vitrine embedded store, first schema. Times are RFC 3339 UTC text with millisecond
-- precision, so text order is time order. Money is integer minor units.

CREATE TABLE server_keys (
    name        TEXT PRIMARY KEY,
    secret      BLOB NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE tenants (
    tenant_id   TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    public_key  TEXT NOT NULL UNIQUE,
    currency    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    tenant_id   TEXT NOT NULL REFERENCES tenants (tenant_id),
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT,
    roles       TEXT NOT NULL,
    collections TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    UNIQUE (tenant_id, email)
);

CREATE TABLE audit_log (
    tenant_id   TEXT NOT NULL,
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    at          TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);

CREATE TABLE customers (
    tenant_id   TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    locale      TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

CREATE TABLE sessions (
    tenant_id               TEXT NOT NULL,
    session_id              TEXT NOT NULL,
    status                  TEXT NOT NULL,
    shopper_id              TEXT,
    customer_id             TEXT NOT NULL,
    customer_participant_id TEXT NOT NULL,
    seq                     INTEGER NOT NULL,
    owner_epoch             INTEGER NOT NULL DEFAULT 0,
    created_at              TEXT NOT NULL,
    started_at              TEXT,
    ended_at                TEXT,
    PRIMARY KEY (tenant_id, session_id)
);
CREATE INDEX sessions_by_created ON sessions (tenant_id, created_at DESC, session_id DESC);

CREATE TABLE session_events (
    tenant_id   TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL,
    by_participant TEXT,
    data        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, seq)
) WITHOUT ROWID;

CREATE TABLE session_snapshots (
    tenant_id   TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    state       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, session_id)
);

CREATE TABLE command_results (
    tenant_id      TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    command_id     TEXT NOT NULL,
    reply          TEXT NOT NULL,
    at             TEXT NOT NULL,
    PRIMARY KEY (tenant_id, session_id, participant_id, command_id)
);
CREATE INDEX command_results_by_time ON command_results (tenant_id, session_id, at);

CREATE TABLE products (
    tenant_id    TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    title        TEXT NOT NULL,
    body_html    TEXT NOT NULL,
    vendor       TEXT NOT NULL,
    product_type TEXT NOT NULL,
    tags         TEXT NOT NULL,
    collections  TEXT NOT NULL,
    option_names TEXT NOT NULL,
    images       TEXT NOT NULL,
    status       TEXT NOT NULL,
    search_text  TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, product_id)
);

CREATE TABLE variants (
    tenant_id        TEXT NOT NULL,
    variant_id       TEXT NOT NULL,
    product_id       TEXT NOT NULL,
    sku              TEXT,
    option_values    TEXT NOT NULL,
    price_minor      INTEGER NOT NULL,
    compare_at_minor INTEGER,
    stock            INTEGER,
    inventory_policy TEXT NOT NULL,
    position         INTEGER NOT NULL,
    image            TEXT,
    PRIMARY KEY (tenant_id, variant_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, product_id)
);
CREATE INDEX variants_by_product ON variants (tenant_id, product_id, position);

CREATE TABLE carts (
    tenant_id   TEXT NOT NULL,
    cart_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    currency    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, cart_id)
);
CREATE UNIQUE INDEX one_open_cart_per_customer ON carts (tenant_id, customer_id)
    WHERE status = 'open';

CREATE TABLE cart_lines (
    tenant_id   TEXT NOT NULL,
    cart_id     TEXT NOT NULL,
    variant_id  TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, cart_id, variant_id)
);

CREATE TABLE commerce_ops (
    tenant_id   TEXT NOT NULL,
    op_key      TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, op_key)
);

CREATE TABLE orders (
    tenant_id   TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    cart_id     TEXT NOT NULL,
    session_id  TEXT,
    customer_id TEXT NOT NULL,
    lines       TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, order_id),
    UNIQUE (tenant_id, cart_id)
);

CREATE TABLE consumer_checkpoints (
    tenant_id   TEXT NOT NULL,
    consumer    TEXT NOT NULL,
    position    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, consumer)
);
