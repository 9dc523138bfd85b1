-- A realistic data set for scripts/bench-mariadb, generated on the server
-- (the same shape as gen_pg.sql): customers, orders and order events with
-- random-looking text, numerics and timestamps, primary keys and secondary
-- indexes. @orders sets the number of orders (about 640 bytes each, with
-- its events and indexes). Uses MariaDB's SEQUENCE engine (seq_1_to_N).
DELIMITER //
CREATE FUNCTION bench_words(n INT) RETURNS VARCHAR(255) CHARSET utf8mb4 NOT DETERMINISTIC NO SQL
BEGIN
  DECLARE s VARCHAR(255) CHARSET utf8mb4 DEFAULT '';
  WHILE LENGTH(s) < n DO
    SET s = CONCAT(s, MD5(RAND()));
  END WHILE;
  -- hex digits to letters and spaces: about 4 bits a character, so the
  -- text compresses about 2:1, like real text
  RETURN LEFT(TRANSLATE_HEX(s), n);
END //
CREATE FUNCTION TRANSLATE_HEX(s VARCHAR(255) CHARSET utf8mb4) RETURNS VARCHAR(255) CHARSET utf8mb4 DETERMINISTIC NO SQL
BEGIN
  -- digits first, to letters that are not hex digits themselves
  RETURN REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(
         REPLACE(REPLACE(REPLACE(s,
         '0','o'),'1','u'),'2','i'),'3',' '),'4','n'),'5','s'),'6','t'),'7','l'),'8','m'),'9','r'),
         'b','k'),'c',' '),'f','p');
END //
DELIMITER ;

CREATE TABLE customers (
  id BIGINT PRIMARY KEY,
  name VARCHAR(40) NOT NULL,
  email VARCHAR(80) NOT NULL,
  country CHAR(2) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  balance DECIMAL(12, 2) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE orders (
  id BIGINT PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  amount DECIMAL(10, 2) NOT NULL,
  status VARCHAR(12) NOT NULL,
  note VARCHAR(200),
  KEY orders_customer (customer_id),
  KEY orders_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE order_events (
  id BIGINT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  at DATETIME(6) NOT NULL,
  kind VARCHAR(12) NOT NULL,
  detail VARCHAR(80),
  KEY events_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

SET @customers = GREATEST(@orders DIV 10, 1);
SET @sql = CONCAT('INSERT INTO customers SELECT seq, CONCAT(bench_words(3 + FLOOR(RAND() * 6)), '' '', bench_words(4 + FLOOR(RAND() * 7))), ',
  'CONCAT(REPLACE(bench_words(6), '' '', ''x''), seq, ''@example.com''), ',
  'ELT(1 + FLOOR(RAND() * 10), ''CH'',''DE'',''FR'',''IT'',''AT'',''NL'',''SE'',''US'',''GB'',''ES''), ',
  'TIMESTAMP''2015-01-01 00:00:00'' + INTERVAL FLOOR(RAND() * 3000 * 86400) SECOND, ROUND(RAND() * 20000 - 5000, 2) ',
  'FROM seq_1_to_', @customers);
PREPARE s FROM @sql; EXECUTE s; DEALLOCATE PREPARE s;

-- Orders arrive in time order, as an application writes them.
SET @sql = CONCAT('INSERT INTO orders SELECT seq, 1 + FLOOR(RAND() * (@customers - 1)), ',
  'TIMESTAMP''2020-01-01 00:00:00'' + INTERVAL seq * 6 SECOND + INTERVAL FLOOR(RAND() * 5000000) MICROSECOND, ',
  'ROUND(RAND() * 990 + 10, 2), ELT(1 + FLOOR(RAND() * 5), ''new'',''paid'',''shipped'',''delivered'',''returned''), ',
  'bench_words(20 + FLOOR(RAND() * 100)) FROM seq_1_to_', @orders);
PREPARE s FROM @sql; EXECUTE s; DEALLOCATE PREPARE s;

SET @sql = CONCAT('INSERT INTO order_events SELECT seq, 1 + (seq - 1) DIV 2, ',
  'TIMESTAMP''2020-01-01 00:00:00'' + INTERVAL seq * 3 SECOND, ELT(1 + FLOOR(RAND() * 5), ''created'',''paid'',''packed'',''shipped'',''delivered''), ',
  'CONCAT(bench_words(12), '' '', MD5(seq)) FROM seq_1_to_', @orders * 2);
PREPARE s FROM @sql; EXECUTE s; DEALLOCATE PREPARE s;

DROP FUNCTION bench_words;
DROP FUNCTION TRANSLATE_HEX;
ANALYZE TABLE customers, orders, order_events;
