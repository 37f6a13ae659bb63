# git's history tools: a clone through upload-pack (processes and pipes), a
# threaded repack, stash, bisect run, an interactive rebase with --exec, a
# worktree, fetch, shortlog. Run by pvm's bash with the sysroot's git, and
# by the host's as the oracle (output no git version changes).
set -e
export GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL=author@example.com GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL=committer@example.com
export GIT_AUTHOR_DATE='2005-04-07T22:13:13Z' GIT_COMMITTER_DATE='2005-04-07T22:13:13Z' GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git() { command git -c maintenance.auto=false -c core.pager=cat -c color.ui=never -c advice.detachedHead=false "$@"; }
git init -q -b main repo
cd repo
for i in $(seq 1 12); do echo "line $i" >> f.txt; seq $i 3 60 > "g$i.txt"; git add .; git commit -q -m "commit $i"; done
git clone -q --no-local . ../clone
cd ../clone
git log --oneline | wc -l
git -c pack.threads=2 repack -a -d -q
git verify-pack -v .git/objects/pack/*.idx | tail -n 2 | sed 's/ [0-9]* [0-9]*$//' || true
echo change >> f.txt
git stash -q
git stash list
git stash pop -q
git status --short
git checkout -q f.txt
git bisect start HEAD HEAD~10 >/dev/null
git bisect run sh -c 'test $(wc -l < f.txt) -lt 7' >/dev/null
git bisect log | grep -c 'good\|bad'
git rev-parse --short refs/bisect/bad
git bisect reset >/dev/null 2>&1
GIT_SEQUENCE_EDITOR=: git rebase -q -i --exec "echo rebased >> ../exec.log" HEAD~3 </dev/null 2>/dev/null || echo rebase status $?
wc -l < ../exec.log
git worktree add -q ../wt HEAD~2
git -C ../wt log -1 --format=%s
git worktree list --porcelain | grep -c worktree
git fetch -q origin
git log --format=%s origin/main -1
git shortlog -sn HEAD
git rev-list --count HEAD
