# git in a scratch repository: init, add, commit, branch, merge, log, diff,
# status, tag, gc (which runs git's own programs), fsck, archive, grep,
# blame. Fixed names and dates make the hashes fixed. Run by pvm's bash
# with the sysroot's git, and by the host's (any recent git: only output
# that no git version changes is printed) as the oracle.
set -e
export GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL=author@example.com GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL=committer@example.com
export GIT_AUTHOR_DATE='2005-04-07T22:13:13Z' GIT_COMMITTER_DATE='2005-04-07T22:13:13Z' GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git() { command git -c maintenance.auto=false -c core.pager=cat -c color.ui=never "$@"; }
git init -q -b main repo
cp -r tree scripts repo/
cd repo
git add .
git status --short
git commit -q -m 'first: a tree and some scripts'
git rev-parse HEAD
git checkout -q -b feature
cp scripts/new.txt scripts/old.txt
echo 'one more line' >> tree/a.txt
git rm -q tree/sub/d.log
git commit -q -am 'feature: new settings'
git log --oneline --stat
git diff main feature -- scripts
git checkout -q main
cp scripts/mine.txt scripts/old.txt
GIT_COMMITTER_DATE='2005-04-08T10:00:00Z' git commit -q -am 'main: my settings'
GIT_COMMITTER_DATE='2005-04-09T10:00:00Z' git merge -q --no-edit feature
git log --graph --format='%h %an %ad %s' --date=iso
git branch -v
git show --format=%H:%T -s HEAD
sha256sum scripts/old.txt
git status --porcelain=v2 --branch
git tag -a v1 -m 'version one'
git describe
git gc -q
git count-objects -v | grep -v size
git fsck --strict 2>&1
git cat-file -p HEAD^{tree}
git archive --format=tar HEAD tree | tar -tf -
git grep -n 'threads'
git log -p -1 --format=%s HEAD~1 | head -n 20
git diff --stat HEAD~2 HEAD
git blame -s scripts/old.txt | sed -n '1,3p;14,16p'
git notanything 2>/dev/null || echo "unknown command: $?"
