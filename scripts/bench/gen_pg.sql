-- A realistic data set for scripts/bench-postgres, generated on the server:
-- customers, orders and order events with random-looking text, numerics and
-- timestamps, primary keys and secondary indexes. psql variable :orders sets
-- the number of orders (about 640 bytes of database each, with its events and indexes).
SELECT setseed(0.20240601);

CREATE TABLE customers (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  country char(2) NOT NULL,
  created_at timestamptz NOT NULL,
  balance numeric(12, 2) NOT NULL
);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  created_at timestamptz NOT NULL,
  amount numeric(10, 2) NOT NULL,
  status text NOT NULL,
  note text
);
CREATE TABLE order_events (
  id bigint PRIMARY KEY,
  order_id bigint NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  detail text
);

INSERT INTO customers
SELECT i,
       initcap(translate(substr(md5(random()::text), 1, 3 + (random() * 6)::int), '0123456789abcdef', 'aeioubdkmrstlnpg'))
         || ' ' || initcap(translate(substr(md5(random()::text), 1, 4 + (random() * 7)::int), '0123456789abcdef', 'aeioubdkmrstlnpg')),
       translate(substr(md5(random()::text), 1, 6), '0123456789abcdef', 'aeioubdkmrstlnpg') || i || '@example.com',
       (ARRAY['CH','DE','FR','IT','AT','NL','SE','US','GB','ES'])[1 + (random() * 9)::int],
       TIMESTAMPTZ '2015-01-01' + random() * interval '3000 days',
       round((random() * 20000 - 5000)::numeric, 2)
FROM generate_series(1, GREATEST(:orders / 10, 1)) AS i;

-- Orders arrive in time order, as an application writes them.
-- Notes: words of random letters (about 4 bits a character, so they
-- compress about 2:1, like real text), 20-120 characters.
INSERT INTO orders
SELECT i,
       1 + (random() * (GREATEST(:orders / 10, 1) - 1))::bigint,
       TIMESTAMPTZ '2020-01-01' + i * interval '6 seconds' + random() * interval '5 seconds',
       round((random() * 990 + 10)::numeric, 2),
       (ARRAY['new','paid','shipped','delivered','returned'])[1 + (random() * 4)::int],
       substr(translate(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text),
                        '0123456789abcdef', 'aeiou bdkmr stln'),
              1, 20 + (random() * 100)::int)
FROM generate_series(1, :orders) AS i;

INSERT INTO order_events
SELECT i,
       1 + (i - 1) / 2,
       TIMESTAMPTZ '2020-01-01' + i * interval '3 seconds',
       (ARRAY['created','paid','packed','shipped','delivered'])[1 + (random() * 4)::int],
       translate(substr(md5(random()::text), 1, 12), '0123456789abcdef', 'aeiou bdkmr stln') || ' ' || md5(i::text)
FROM generate_series(1, :orders * 2) AS i;

CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX order_events_order ON order_events (order_id);
VACUUM ANALYZE;
