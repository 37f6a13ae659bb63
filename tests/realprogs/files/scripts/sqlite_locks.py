# SQLite's locks between processes: a WAL database written by the parent
# while forked children read it and try to write (fcntl locks on the
# database and its -shm file, which every process maps shared).
import os
import sqlite3
import sys


def child(what):
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            c = sqlite3.connect("locks.db", timeout=0, isolation_level=None)
            rows = c.execute("select count(*), coalesce(sum(x), 0) from t").fetchone()
            print(what, "reads", rows, flush=True)
            try:
                c.execute("insert into t values (100)")
                print(what, "wrote", flush=True)
            except sqlite3.OperationalError as e:
                print(what, "could not write:", e, flush=True)
                code = 5
        finally:
            os._exit(code)
    _, st = os.waitpid(pid, 0)
    print(what, "exit", os.waitstatus_to_exitcode(st))


db = sqlite3.connect("locks.db", isolation_level=None)
print(db.execute("pragma journal_mode=wal").fetchone())
db.execute("create table t(x integer)")
db.executemany("insert into t values (?)", [(i,) for i in range(10)])
child("idle")
db.execute("begin immediate")
db.execute("insert into t values (1000)")
child("writing")
db.execute("commit")
child("committed")
print(db.execute("select count(*), sum(x) from t").fetchone())
print(db.execute("pragma wal_checkpoint(truncate)").fetchone(), os.path.getsize("locks.db-wal"))
db.close()
print(sorted(f for f in os.listdir(".") if f.startswith("locks.db")))
