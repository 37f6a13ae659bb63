# Files the way coreutils, tar and xz use them: a sparse file (SEEK_HOLE)
# archived with tar -S and copied sparse, sort with two threads and temporary
# files, split, a FIFO, file times, tee, statfs, nproc and xz -T0. Run by
# pvm's bash with the sysroot's tools, and by the host's as the oracle.
truncate -s 5M sparse.bin
printf 'middle' | dd of=sparse.bin bs=1 seek=2000000 conv=notrunc status=none
printf 'end' >> sparse.bin
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -S -cf sp.tar sparse.bin
tar -tvf sp.tar
ls -l sp.tar | awk '{print $5}'
mkdir ex && tar -xf sp.tar -C ex && cmp sparse.bin ex/sparse.bin && echo same
du -k ex/sparse.bin | awk '{ print ($1 < 100) }'
cp --sparse=always sparse.bin copy.bin && du -k copy.bin | awk '{ print ($1 < 100) }' && cmp sparse.bin copy.bin && echo copied
seq 1 200000 | shuf --random-source=sparse.bin | sort -n --parallel=2 -S 100K -T . | sha256sum
seq 1 100000 | split -l 30000 -d - part_ && wc -l part_* | tail -1
mkfifo ff; (echo via fifo > ff &) ; cat ff
touch -d '2001-02-03 04:05:06' old; touch -d '2011-02-03 04:05:06' new; find . -maxdepth 1 -newer old -name 'new' ; stat -c '%y' old new
ls -l --time-style=+%Y-%m-%dT%H:%M old | awk '{print $6, $7}'
printf 'a\nb\n' | tee t1 t2 | wc -l; cat t1 t2 | wc -c
stat -f -c '%T' . >/dev/null && echo statfs ok
nproc --all >/dev/null && echo nproc ok
seq 1 5000 | xz -T0 -c | xz -dc | tail -1
