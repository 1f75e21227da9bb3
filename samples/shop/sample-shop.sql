-- A small sample shop, deliberately unlike RecApp's schema: its own names, integer keys, prices in cents, keywords as
-- a comma-separated string, local timestamps, orders with lines, views and reviews in tables of their own. RecApp reads
-- it only through the mapping in mapping.json (README, "Source database") and only as the role shop_reader, which has
-- SELECT and nothing else. Deterministic: the same rows on every run. Run once on an empty database.

CREATE SCHEMA shop;

CREATE TABLE shop.categories (
    category_id smallint PRIMARY KEY,
    label       varchar(40) NOT NULL
);

CREATE TABLE shop.products (
    product_id   integer PRIMARY KEY,
    sku          varchar(20) NOT NULL UNIQUE,
    name         varchar(200) NOT NULL,
    category_id  smallint NOT NULL REFERENCES shop.categories,
    price_cents  integer NOT NULL,
    region_code  integer,                 -- null: sold everywhere
    keywords     varchar(200) NOT NULL DEFAULT '',
    discontinued boolean NOT NULL DEFAULT false,
    added_on     timestamp NOT NULL,      -- shop-local time, UTC
    modified_on  timestamp NOT NULL
);

CREATE TABLE shop.customers (
    customer_no integer PRIMARY KEY,
    email       varchar(200) NOT NULL,
    sex         char(1),                  -- 'F', 'M' or null
    birth_year  smallint,
    region_code integer,
    signed_up   timestamp NOT NULL
);

CREATE TABLE shop.orders (
    order_id    integer PRIMARY KEY,
    customer_no integer NOT NULL REFERENCES shop.customers,
    placed_at   timestamptz NOT NULL,
    status      varchar(20) NOT NULL      -- 'paid', 'shipped', 'cancelled'
);

CREATE TABLE shop.order_lines (
    order_id   integer NOT NULL REFERENCES shop.orders,
    line_no    smallint NOT NULL,
    product_id integer NOT NULL REFERENCES shop.products,
    quantity   smallint NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE shop.product_views (
    customer_no integer NOT NULL,
    product_id  integer NOT NULL,
    viewed_at   timestamptz NOT NULL
);

CREATE TABLE shop.reviews (
    customer_no integer NOT NULL,
    product_id  integer NOT NULL,
    stars       smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    written_at  timestamptz NOT NULL,
    PRIMARY KEY (customer_no, product_id)
);

-- The indexes a shop would have anyway; the per-user reads of the mapping use them.
CREATE INDEX ON shop.orders (customer_no);
CREATE INDEX ON shop.product_views (customer_no, viewed_at DESC);

INSERT INTO shop.categories VALUES (1, 'electronics'), (2, 'books'), (3, 'toys'), (4, 'home');

-- 200 products, ids 1001-1200; category (n % 4) + 1. Electronics cost 50-2,540 (the service contract's example asks for 500-2000).
INSERT INTO shop.products (product_id, sku, name, category_id, price_cents, region_code, keywords, discontinued, added_on, modified_on)
SELECT 1000 + n, 'SKU-' || lpad(n::text, 5, '0'), 'Product ' || n, (n % 4) + 1,
       CASE WHEN n % 4 = 0 THEN 5000 + (n * 1270) % 249000 ELSE 500 + (n * 370) % 7500 END,
       CASE n % 5 WHEN 0 THEN 213 WHEN 1 THEN 77 END,
       'kw' || (n % 7) || ',kw' || (n % 11),
       n % 50 = 0,
       timestamp '2026-01-01' + make_interval(hours => n), timestamp '2026-01-01' + make_interval(hours => n)
FROM generate_series(1, 200) AS n;

-- 300 customers; ages spread over every group, regions 213 and 77.
INSERT INTO shop.customers (customer_no, email, sex, birth_year, region_code, signed_up)
SELECT c, 'customer' || c || '@example.com', CASE WHEN c % 10 = 9 THEN NULL WHEN c % 2 = 0 THEN 'F' ELSE 'M' END,
       1950 + (c * 7) % 58, CASE WHEN c % 3 = 0 THEN 213 ELSE 77 END, timestamp '2025-06-01' + make_interval(days => c % 200)
FROM generate_series(1, 300) AS c;

-- Planted taste: customer c prefers category (c % 4) + 1, whose products are 1000 + 4k + (c % 4) (k = 1..49).
INSERT INTO shop.product_views (customer_no, product_id, viewed_at)
SELECT c, 1000 + 4 * (1 + (c + 3 * v) % 48) + (c % 4), timestamptz '2026-06-01 00:00Z' + make_interval(hours => c + 5 * v)
FROM generate_series(1, 300) AS c, generate_series(0, 11) AS v;

INSERT INTO shop.orders (order_id, customer_no, placed_at, status)
SELECT c * 10 + o, c, timestamptz '2026-07-01 00:00Z' + make_interval(hours => c + 40 * o),
       CASE WHEN (c + o) % 13 = 0 THEN 'cancelled' WHEN o = 0 THEN 'shipped' ELSE 'paid' END
FROM generate_series(1, 300) AS c, generate_series(0, 1) AS o;

INSERT INTO shop.order_lines (order_id, line_no, product_id, quantity)
SELECT c * 10 + o, l, 1000 + 4 * (1 + (c + 7 * o + 2 * l) % 48) + (c % 4), 1 + l
FROM generate_series(1, 300) AS c, generate_series(0, 1) AS o, generate_series(1, 2) AS l;

INSERT INTO shop.reviews (customer_no, product_id, stars, written_at)
SELECT c, 1000 + 4 * (1 + c % 48) + (c % 4), 3 + c % 3, timestamptz '2026-08-01 00:00Z' + make_interval(hours => c)
FROM generate_series(4, 300, 4) AS c;

-- The role RecApp connects as: it can read the shop and change nothing.
DO $$
BEGIN
    CREATE ROLE shop_reader LOGIN PASSWORD 'shop-reader';
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- another database of this server created it; the grants below are per database
END
$$;
GRANT USAGE ON SCHEMA shop TO shop_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO shop_reader;
