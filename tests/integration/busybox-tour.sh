# The busybox tour (tests/integration/busybox.test.ts): busybox's sh runs
# it on TSKernel and on the host, in an empty directory given as $1, and
# each section must print the same on both. Nothing printed may depend on
# the machine: no times, sizes of directories or readdir order (sorted).
exec 2>&1 # errors are output too, in order, as on the console
cd "$1" || exit 1
section() { echo "=== $1"; }

section files
mkdir -p d/e
echo one > d/a
printf 'two\nthree\n' >> d/a
cp d/a d/b
ls -1 d
mv d/b d/e/c
ls -1 d d/e
cat d/e/c
wc -l d/a
ln -s a d/link; readlink d/link; cat d/link
rm d/link d/e/c
rmdir d/e
ls -1 d
rm -r d
ls -1

section script
f() { local x=$1; echo "f got $x and $#"; return 3; }
f "a b" c; echo "status $?"
n=$(seq 1 10 | wc -l); echo "n=$n"
cat <<EOT > doc.txt
here $n
EOT
cat <<'EOT' >> doc.txt
literal $n
EOT
cat doc.txt
echo out > o.txt 2> e.txt; ls nothing 2>> e.txt; echo "errors $(wc -l < e.txt), out $(cat o.txt)"
trap 'echo caught USR1' USR1; kill -USR1 $$; echo after
( trap 'echo exit trap' EXIT; echo in subshell )
for i in 1 2 3; do case $i in 2) continue;; esac; echo "i=$i"; done
i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo "i=$i"
echo a,b,c | { IFS=, read x y z; echo "$z$y$x"; }
sh -c 'exit 7'; echo "child $?"
false || echo or; true && echo and
echo "${nothing:-default} ${#n}"
seq 1 5 | tr 1-5 a-e | sort -r | head -2 | tail -1
a=$(date +%s); sleep 1; b=$(date +%s); [ $((b - a)) -ge 1 ] && echo slept
timeout 1 sleep 5; echo "timeout $?"

section shebang
printf '#!/bin/sh\necho "ran $0 with $1"\n' > s.sh
chmod +x s.sh
./s.sh one
printf '#!/nonexistent/interpreter\n' > bad.sh
chmod +x bad.sh
./bad.sh 2>/dev/null # the message names the tour script, whose path differs
echo "status $?"
rm s.sh bad.sh

section sort
printf 'pear\napple\nfig\napple\n10\n9\n' > words
sort words; sort -n words; sort -r -u words

section uniq
sort words | uniq -c

section sed
sed -e 's/p/P/g' -e '/fig/d' words; sed -n '2,3p' words

section awk
awk '{ n[$0]++ } END { for (w in n) if (n[w] > 1) print w, n[w] }' words
seq 1 100 | awk '{ s += $1 } END { print s, NR }'

section grep
grep -n p words; grep -c -v p words; grep -E '^[0-9]+$' words

section find
mkdir -p t/u/v; echo x > t/x; echo yy > t/u/y; echo zzz > t/u/v/z
find t | sort; find t -type f -name '[xy]' | sort; find t -type d | wc -l

section tar
tar cf t.tar t; tar tf t.tar | sort; mkdir x; tar xf t.tar -C x; find x | sort; cat x/t/u/v/z

section gzip
seq 1 2000 > nums; gzip -c nums > nums.gz; gzip -dc nums.gz | md5sum; gzip -t nums.gz && echo ok
wc -c < nums.gz

section md5sum
seq 1 50000 > big; wc -c big
md5sum words nums big; md5sum words nums big > sums; md5sum -c sums

section xargs
echo 'a b c d e' | xargs -n 2 echo; find t -type f | sort | xargs cat

section end
