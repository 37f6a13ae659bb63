# tar with gzip and xz (threaded): create, list, extract, check.
# Run by pvm's bash with the sysroot's tools, and by the host's as the oracle.
set -e
o="--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner"
tar $o -cf t.tar tree scripts
sha256sum t.tar
tar $o -czf t.tgz tree
tar -tzvf t.tgz
tar $o -I "xz -T2" -cf t.txz tree scripts
tar -tJf t.txz | sort | sha256sum
mkdir x y
tar -xzf t.tgz -C x
tar -xJf t.txz -C y
diff -r tree x/tree && diff -r y/tree x/tree && echo same trees
stat -c "%n %a %s %Y" x/tree/run.sh y/tree/sub/c.txt
gzip -t t.tgz && xz -t t.txz && echo intact
seq 1 60000 | xz -T2 --block-size=32KiB -6 -c > s.xz
xz -dc -T2 s.xz | sha256sum
xz -l s.xz | awk "NR == 2 { print \$1, \$2 }"
gzip -9 -c t.tar | gzip -dc | cmp - t.tar && echo gzip round trip
cat t.tar | gzip -n > t.tar.gz
gzip -l t.tar.gz | awk "NR == 2 { print \$2 }"
tar -xOzf t.tgz tree/a.txt tree/sub/c.txt
tar -tf t.tar nothing-here || echo "missing member $?"
