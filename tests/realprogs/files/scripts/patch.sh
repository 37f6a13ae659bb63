# diff, patch and diff3 together: make a patch, apply it to a file that has
# other changes, back it out, apply a second one with an offset, and check
# that the result is what diff3's merge gives. Run by pvm's bash with the
# sysroot's tools, and by the host's as the oracle.
diff -u --label a/conf --label b/conf scripts/old.txt scripts/new.txt > conf.diff
cp scripts/mine.txt conf
patch -b conf < conf.diff
echo "patch $?"
sha256sum conf
cmp conf.orig scripts/mine.txt && echo backup kept
patch -R -s conf < conf.diff
diff conf scripts/mine.txt && echo reversed
diff -u scripts/old.txt scripts/mine.txt > mine.diff
cp scripts/new.txt n.txt
patch --dry-run n.txt < mine.diff
echo "dry $?"
patch n.txt mine.diff
sha256sum n.txt
diff3 -m scripts/mine.txt scripts/old.txt scripts/new.txt | diff - n.txt && echo same as diff3
printf '1c1\n< x\n' | patch n.txt
echo "garbage $?"
ls
