-- A database exercising what a logical backup commonly gets wrong.
CREATE EXTENSION pgcrypto;
CREATE EXTENSION hstore;
CREATE EXTENSION btree_gist;

DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fixture_reader') THEN
    CREATE ROLE fixture_reader;
  END IF;
END $$;

CREATE SCHEMA "Sales Dept";
CREATE SCHEMA "ünïcødé";

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s "complicated"');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN email AS text CHECK (VALUE ~ '@');
CREATE TYPE address AS (street text, city text, zip varchar(10));
CREATE TYPE tagged AS (label text, feeling mood);
COMMENT ON TYPE mood IS 'how a row feels';

-- Columns whose binary form names user type OIDs (enum arrays, a
-- composite holding an enum): this table must travel as text.
CREATE TABLE kitchen_sink (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial_col bigserial,
    feeling mood NOT NULL DEFAULT 'ok',
    feelings mood[],
    tag tagged,
    qty positive_int,
    contact email,
    home address,
    tags text[],
    matrix integer[][],
    doc jsonb,
    js json,
    raw bytea,
    big numeric,
    small real,
    dbl double precision,
    at timestamptz,
    d date,
    t time,
    iv interval,
    ip inet,
    mac macaddr,
    u uuid DEFAULT gen_random_uuid(),
    kv hstore,
    r int4range,
    money_col money,
    bits bit varying(16),
    pt point,
    twice numeric GENERATED ALWAYS AS (big * 2) STORED,
    note text
);
COMMENT ON TABLE kitchen_sink IS 'one of everything';
COMMENT ON COLUMN kitchen_sink.raw IS 'bytes, NULs included';
GRANT SELECT ON kitchen_sink TO fixture_reader;

INSERT INTO kitchen_sink (feeling, feelings, tag, qty, contact, home, tags, matrix, doc, js, raw,
    big, small, dbl, at, d, t, iv, ip, mac, kv, r, money_col, bits, pt, note)
SELECT (ARRAY['sad','ok','happy','it''s "complicated"']::mood[])[1 + i % 4],
       ARRAY['happy','sad']::mood[],
       ROW('label ' || i, 'ok')::tagged,
       i,
       'user' || i || '@example.com',
       ROW(i || ' Main St', 'Zürich', lpad(i::text, 5, '0'))::address,
       ARRAY['a', 'b"c', NULL, 'd,e', ''],
       ARRAY[[i, i + 1], [i + 2, NULL]],
       jsonb_build_object('i', i, 'nested', jsonb_build_object('k', repeat('x', i % 7)), 'arr', jsonb_build_array(1, 'two', NULL, true)),
       ('{"b": 1, "a": [1, 2], "dup": 1, "dup": 2, "i": ' || i || '}')::json,
       decode('00ff00' || md5(i::text) || '0000', 'hex'),
       CASE i % 6
         WHEN 0 THEN 'NaN'::numeric
         WHEN 1 THEN ('9' || repeat('9', 999))::numeric
         WHEN 2 THEN ('-0.' || repeat('0', 300) || '1')::numeric
         WHEN 3 THEN 'Infinity'::numeric
         WHEN 4 THEN '-Infinity'::numeric
         ELSE (i * 1.000000000000000000001)::numeric
       END,
       CASE i % 4 WHEN 0 THEN 'NaN'::real WHEN 1 THEN 'Infinity'::real WHEN 2 THEN -0.0::real ELSE 1.17549435e-38::real END,
       CASE i % 3 WHEN 0 THEN '-Infinity'::float8 WHEN 1 THEN 2.2250738585072014e-308 ELSE 0.1 + 0.2 END,
       CASE i % 5 WHEN 0 THEN 'infinity'::timestamptz WHEN 1 THEN '-infinity'::timestamptz
            WHEN 2 THEN '4713-01-01 00:00:00+00 BC'::timestamptz ELSE '2024-02-29 23:59:59.999999+05:30'::timestamptz + i * interval '1 hour' END,
       DATE '2000-01-01' + i,
       TIME '23:59:59.999999',
       make_interval(years => i, days => -i, secs => 0.000001 * i),
       ('10.0.' || (i % 256) || '.1/24')::inet,
       '08:00:2b:01:02:03',
       hstore(ARRAY['k' || i, 'quote"d', 'null'], ARRAY['v', 'x=>y', NULL]),
       int4range(i, i + 10, '[)'),
       (i * 1.25)::money,
       B'1011'::bit varying(16),
       point(i, -i),
       CASE WHEN i % 50 = 0 THEN repeat(md5(i::text), 4000) ELSE E'tab\there, newline\nand backslash \\ and unicode ☃' END
FROM generate_series(1, 300) AS i;
INSERT INTO kitchen_sink (feeling, note) VALUES ('sad', NULL);

-- Only built-in types: travels as binary. Names that need quoting.
CREATE TABLE "Sales Dept"."Order ""Lines""" (
    id bigint PRIMARY KEY,
    amount numeric(12, 2) NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    payload bytea,
    "Ça va?" text
);
CREATE INDEX "idx Order Lines created" ON "Sales Dept"."Order ""Lines""" (created DESC);
INSERT INTO "Sales Dept"."Order ""Lines"""
SELECT i, (i * 7.31) % 10000, TIMESTAMPTZ '2025-06-01 12:00+00' - i * interval '37 minutes',
       CASE WHEN i % 100 = 0 THEN (SELECT string_agg(decode(md5(i::text || j), 'hex'), ''::bytea) FROM generate_series(1, 6000) j)
            ELSE decode(md5(i::text), 'hex') END,
       'ligne ' || i || ' — ça va'
FROM generate_series(1, 5000) AS i;

CREATE TABLE "ünïcødé"."tàble ñ" ("Ça va?" text, "ключ" int UNIQUE);
INSERT INTO "ünïcødé"."tàble ñ" VALUES ('très bien', 1), ('日本語', 2), (NULL, 3);
COMMENT ON SCHEMA "ünïcødé" IS 'schema with non-ASCII name';

CREATE SEQUENCE "Sales Dept".invoice_no START 1000;
SELECT nextval('"Sales Dept".invoice_no') FROM generate_series(1, 17);
CREATE SEQUENCE untouched_seq;

-- Partitioned, with a sub-partitioned partition and a default partition.
CREATE TABLE measurements (
    id bigint NOT NULL,
    city text NOT NULL,
    logdate date NOT NULL,
    peak int,
    PRIMARY KEY (id, logdate, city)
) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (city);
CREATE TABLE measurements_2025_a PARTITION OF measurements_2025 FOR VALUES IN ('a');
CREATE TABLE measurements_2025_other PARTITION OF measurements_2025 DEFAULT;
INSERT INTO measurements SELECT i, (ARRAY['a','b','c'])[1 + i % 3], DATE '2024-01-01' + (i % 700), i % 40 FROM generate_series(1, 2000) i;

-- Inheritance: the parent's own rows and the child's are separate.
CREATE TABLE cities (name text PRIMARY KEY, population int);
CREATE TABLE capitals (country text) INHERITS (cities);
INSERT INTO cities VALUES ('Springfield', 30000), ('Shelbyville', 25000);
INSERT INTO capitals VALUES ('Bern', 140000, 'CH'), ('Wien', 1900000, 'AT');

-- Circular deferrable foreign keys.
CREATE TABLE parents (id int PRIMARY KEY, favourite_child int);
CREATE TABLE children (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);
ALTER TABLE parents ADD CONSTRAINT parents_fav_fk FOREIGN KEY (favourite_child) REFERENCES children (id) DEFERRABLE INITIALLY DEFERRED;
BEGIN;
INSERT INTO parents SELECT i, i * 10 FROM generate_series(1, 50) i;
INSERT INTO children SELECT i * 10, i FROM generate_series(1, 50) i;
COMMIT;

-- Check, unique and exclusion constraints.
CREATE TABLE bookings (
    id int PRIMARY KEY,
    room int NOT NULL CHECK (room BETWEEN 1 AND 500),
    during tsrange NOT NULL,
    code text UNIQUE,
    EXCLUDE USING gist (room WITH =, during WITH &&)
);
INSERT INTO bookings SELECT i, 1 + i % 20, tsrange(TIMESTAMP '2025-01-01' + i * interval '1 day', TIMESTAMP '2025-01-01' + i * interval '1 day' + interval '3 hours'), 'B' || i FROM generate_series(1, 200) i;

-- Views, materialized views (one populated, one not).
CREATE VIEW happy_rows AS SELECT id, feeling, note FROM kitchen_sink WHERE feeling = 'happy';
CREATE MATERIALIZED VIEW mood_counts AS SELECT feeling, count(*) AS n FROM kitchen_sink GROUP BY feeling;
CREATE UNIQUE INDEX mood_counts_feeling ON mood_counts (feeling);
CREATE MATERIALIZED VIEW never_refreshed AS SELECT 1 AS x WITH NO DATA;

-- Functions and triggers.
CREATE TABLE audit_log (id bigserial PRIMARY KEY, what text NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION log_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_log (what) VALUES ('booking ' || NEW.id);
  RETURN NEW;
END $$;
COMMENT ON FUNCTION log_booking() IS 'writes the audit log';
CREATE TRIGGER bookings_audit AFTER INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION log_booking();
INSERT INTO bookings VALUES (1000, 499, tsrange('2030-01-01', '2030-01-02'), 'TRIGGERED');
CREATE FUNCTION add_em(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';

-- Row-level security.
CREATE TABLE secrets (id int PRIMARY KEY, owner name NOT NULL DEFAULT current_user, body text);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY secrets_owner ON secrets USING (owner = current_user);
CREATE POLICY secrets_reader ON secrets FOR SELECT TO fixture_reader USING (true);
INSERT INTO secrets SELECT i, 'someone_else', 'hidden ' || i FROM generate_series(1, 20) i;

-- Unlogged table, a table without columns, and an empty table.
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v jsonb);
INSERT INTO cache SELECT 'k' || i, jsonb_build_object('v', i) FROM generate_series(1, 100) i;
CREATE TABLE no_columns ();
INSERT INTO no_columns DEFAULT VALUES;
INSERT INTO no_columns DEFAULT VALUES;
CREATE TABLE nothing_here (id int);

-- Large objects: small, empty, and several pieces long.
SELECT lo_from_bytea(0, decode('00010200ff', 'hex'));
SELECT lo_from_bytea(0, ''::bytea);
SELECT lo_from_bytea(0, (SELECT string_agg(decode(md5(j::text), 'hex'), ''::bytea) FROM generate_series(1, 200000) j));
DO $$ DECLARE o oid; BEGIN
  SELECT min(oid) INTO o FROM pg_largeobject_metadata;
  EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', o, 'the first large object');
END $$;
