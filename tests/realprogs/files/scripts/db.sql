-- A small database in WAL mode: tables, an index, transactions, a view,
-- window functions, a recursive CTE, JSON and printf of floats.
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
CREATE TABLE author(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE book(id INTEGER PRIMARY KEY, author INTEGER REFERENCES author(id),
                  title TEXT, year INTEGER, price REAL);
CREATE INDEX book_year ON book(year);
BEGIN;
INSERT INTO author(name) VALUES ('Austen'), ('Borges'), ('Calvino'), ('Dickens');
INSERT INTO book(author, title, year, price) VALUES
  (1, 'Emma', 1815, 9.99), (1, 'Persuasion', 1817, 7.5),
  (2, 'Ficciones', 1944, 12.25), (2, 'El Aleph', 1949, 11.0),
  (3, 'Invisible Cities', 1972, 13.4), (3, 'If on a winter''s night', 1979, 14.95),
  (4, 'Bleak House', 1853, 10.0), (4, 'Hard Times', 1854, 6.75);
COMMIT;
BEGIN;
UPDATE book SET price = price * 2;
ROLLBACK;
SAVEPOINT s1;
DELETE FROM book WHERE year < 1850;
ROLLBACK TO s1;
RELEASE s1;
INSERT INTO book(author, title, year, price) VALUES (99, 'Nobody', 2000, 1.0);
CREATE VIEW per_author AS
  SELECT a.name, count(*) AS n, round(avg(b.price), 3) AS avg_price, min(b.year) AS first
  FROM author a JOIN book b ON b.author = a.id GROUP BY a.id;
.mode list
.separator " | "
SELECT * FROM per_author ORDER BY name;
SELECT title, year, rank() OVER (ORDER BY price DESC) AS r,
       printf('%.3f %e', price, price / 7.0) FROM book ORDER BY year;
EXPLAIN QUERY PLAN SELECT title FROM book WHERE year BETWEEN 1900 AND 1960;
SELECT title FROM book WHERE year BETWEEN 1900 AND 1960 ORDER BY year;
WITH RECURSIVE fib(n, a, b) AS (SELECT 1, 0, 1 UNION ALL SELECT n + 1, b, a + b FROM fib WHERE n < 60)
  SELECT n, a FROM fib WHERE n % 15 = 0;
SELECT json_object('books', (SELECT count(*) FROM book), 'total', (SELECT sum(price) FROM book));
SELECT json_group_array(name) FROM (SELECT name FROM author ORDER BY name DESC);
SELECT length(randomblob(16)), typeof(1e308 * 10), 1e308 * 10, 7 / 2, 7 / 2.0, -7 % 3;
CREATE TABLE big(x INTEGER, s TEXT);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
  INSERT INTO big SELECT i, printf('%08X', i * 2654435761 % 4294967296) FROM c;
CREATE INDEX big_s ON big(s);
SELECT count(*), sum(x), min(s), max(s) FROM big WHERE s LIKE 'A%';
PRAGMA wal_checkpoint(TRUNCATE);
PRAGMA integrity_check;
PRAGMA journal_mode;
.tables
.schema book
