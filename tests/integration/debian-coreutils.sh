# Debian's own coreutils, dynamically linked with glibc, through busybox's
# shell: run on TSKernel (tests/integration/debian.test.ts) and on this
# host, whose binaries these are; every section must print the same on
# both. Programs are named by path, so that no busybox applet stands in.
#   sh debian-coreutils.sh INPUT-DIR SCRATCH-DIR
# INPUT-DIR holds words.txt, numbers.txt, table.csv and big.txt; errors
# name files relatively, so that the two directories may differ.
export LC_ALL=C
cd "$1" || exit 1
tmp=$2
u=/usr/bin
status() { echo "status $?"; }

echo "=== cat"
$u/cat words.txt > "$tmp/copy"; status
$u/sha256sum < "$tmp/copy"
$u/cat -n words.txt numbers.txt | $u/head -n 4
$u/cat words.txt missing 2>&1 | $u/tail -n 1; status
$u/cat missing 2>&1; status
printf 'a\tb\001\n' | $u/cat -A

echo "=== sort"
$u/sort words.txt | $u/sha256sum
$u/sort -u words.txt | $u/wc -l
$u/sort -n -r numbers.txt | $u/head -n 5
$u/sort -t, -k2,2n -k1,1 table.csv | $u/head -n 6
$u/sort -c words.txt 2>&1; status
$u/sort words.txt | $u/sort -c; status
# A 64 KiB buffer for 1 MiB: sort merges temporary files in the scratch directory.
$u/sort -S 64K -T "$tmp" big.txt | $u/sha256sum
$u/sort -r big.txt -o "$tmp/sorted"; status
$u/head -n 2 "$tmp/sorted"

echo "=== sha256sum"
$u/sha256sum words.txt numbers.txt table.csv
$u/sha256sum < big.txt
$u/sha256sum words.txt big.txt > "$tmp/sums"
$u/sha256sum -c "$tmp/sums"; status
echo "0000000000000000000000000000000000000000000000000000000000000000  words.txt" | $u/sha256sum -c 2>&1; status

echo "=== head"
$u/head -n 3 words.txt
$u/head -c 21 numbers.txt; echo
$u/head -n -2995 words.txt
$u/tail -n 2 words.txt
$u/tail -c 10 table.csv

echo "=== wc"
$u/wc words.txt numbers.txt table.csv
$u/wc -l < big.txt
$u/wc -c -m -w big.txt

echo "=== uniq"
$u/sort words.txt | $u/uniq -c | $u/sort -k1,1nr -k2 | $u/head -n 5
$u/sort words.txt | $u/uniq -d | $u/wc -l
$u/sort words.txt | $u/uniq -u | $u/head -n 3

echo "=== tr"
$u/tr a-z A-Z < words.txt | $u/head -n 3
$u/tr -d aeiou < words.txt | $u/head -n 3
$u/tr -s 'a-z' < words.txt | $u/sha256sum
$u/tr -c 'a-z\n' '_' < table.csv | $u/head -n 2

echo "=== ls"
# Into a pipe one name a line; on TSKernel's console (a terminal) ls would use columns.
$u/ls | $u/cat
$u/ls -C -w 30
$u/ls -a -1 -r
$u/ls -1 -S
$u/ls missing 2>&1; status

echo "=== end"
