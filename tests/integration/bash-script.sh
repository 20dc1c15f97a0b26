# The bash script (tests/integration/bash.test.ts): Debian's bash-static
# runs it on TSKernel and on the host, in an empty directory given as $1,
# with busybox's applets as the commands on both, and each section must
# print the same. Nothing printed may depend on the machine: no times,
# pids, absolute paths, or the script's own path (error messages start
# with it, so stderr that could carry one goes to /dev/null).
exec 2>&1 # errors are output too, in order, as on the console
cd "$1" || exit 1
export LC_ALL=C # sorting and globbing in byte order on both
shopt -s extglob # before the lines that use it are parsed
section() { echo "=== $1"; }

section version
echo "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]} $BASH_VERSION"

section arrays
a=(one two "three four")
a+=(five)
echo "${#a[@]} ${a[2]} ${a[-1]} ${!a[*]}"
unset 'a[1]'
echo "${a[*]} / ${!a[*]}"
b=("${a[@]:1:2}")
printf '<%s>' "${b[@]}"; echo
declare -A color=([apple]=red [banana]=yellow)
color[cherry]="dark red"
for k in $(printf '%s\n' "${!color[@]}" | sort); do printf '%s=%s\n' "$k" "${color[$k]}"; done
echo "${#color[@]} ${color[banana]} ${color[nothing]:-none}"
[[ -v color[apple] ]] && echo "has apple"
unset 'color[apple]'; [[ -v color[apple] ]] || echo "apple gone"
declare -a sparse; sparse[10]=x; sparse[3]=y; echo "${!sparse[*]} ${sparse[*]}"
mapfile -t lines < <(printf 'l1\nl2\nl3\n')
echo "${#lines[@]} ${lines[1]}"
declare -n ref=color; echo "nameref ${ref[cherry]}"

section tests
x=hello.tar.gz
[[ $x == *.tar.* ]] && echo "glob match"
[[ $x =~ ^([a-z]+)\.(.*)$ ]] && echo "regex ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
[[ -n $x && ! -z $x ]] && echo nonempty
[[ 10 -gt 9 && abc < abd ]] && echo compare
[[ -d . && ! -e nothing ]] && echo files
echo $(( 7 * 6 )) $(( 2 ** 10 )) $(( 17 % 5 )) $(( (3 + 4) << 2 )) $(( 1 ? 10 : 20 ))
i=5; (( i += 3, i *= 2 )); echo "i=$i"
(( i > 10 )) && echo big
echo $(( 16#ff )) $(( 0x10 + 010 )) $(( -7 / 2 )) $(( 2#1010 ))
let "j = i / 3"; echo "j=$j"
typeset -i n=3+4; echo "n=$n"
for (( k = 0; k < 3; k++ )); do printf '%d' $k; done; echo
echo {1..5} {a,b}c {03..1}
case food in f@(oo|ee)d) echo extglob;; esac
touch g1 g2 g10 h; echo g*; echo g?; rm g1 g2 g10 h

section functions
counter=0
bump() { local step=${1:-1}; counter=$(( counter + step )); local counter=99; echo "inner $counter"; }
bump 5; echo "outer $counter"
outer() { local v=outer; inner; echo "after $v"; }
inner() { echo "sees $v"; v=changed; }
outer; echo "global v=${v-unset}"
fact() { if (( $1 <= 1 )); then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
fact 10
ret() { return "$1"; }; ret 42; echo "status $?"
declare -f ret
args() { echo "$# args: $*"; shift; echo "after shift: $1"; }
args "one two" three four
opts() { local OPTIND o; while getopts "ab:" o; do echo "opt $o ${OPTARG-}"; done; shift $((OPTIND - 1)); echo "rest $*"; }
opts -a -b val file

section strings
x=banana
echo "${x//a/o} ${x/a/o} ${x#*n} ${x##*n} ${x%n*} ${x%%n*} ${#x}"
echo "${x:1:3} ${x: -2} ${x^^} ${x^}"
y=${x/#b/B}; echo "$y ${y,,} ${y/%a/A}"
path=/usr/local/bin/tool; echo "${path##*/} ${path%/*}"
unset none; echo "${none:-default} ${none:=assigned} $none ${x:+set}"
printf '%5s|%-5s|%05d|%x|%o|%.3s|%c|%%\n' ab cd 42 255 8 abcdef xyz
printf -v out '%s-%s' a b; echo "$out"
printf '%q\n' "a b'c"
printf '%s,' 1 2 3; echo
echo $'tab\there' "$(printf '\x41\102')"
IFS=, read -r f1 f2 f3 <<< "x,y,z"; echo "$f3$f2$f1"
words="a  b   c"; set -- $words; echo "$# words"

section substitution
now=$(echo inner $(echo nested))
echo "$now"
count=`echo one two | wc -w`; echo "backticks $count"
lines=$(printf 'a\nb\n\n\n'); echo "[$lines]"
echo "$(exit 3)"; echo "status $?"
echo data > data.txt; echo "file $(< data.txt)"
echo "$(echo "quoted  spaces")"

section heredocs
read -r first second rest <<EOF
alpha beta gamma delta
EOF
echo "$first|$second|$rest"
while IFS=: read -r name value; do echo "$name -> $value"; done <<'EOF'
one:1
two:$2
EOF
read -r w <<< "here string"; echo "$w"
tr a-z A-Z <<< "shout"
cat <<-EOF
	tabs stripped $x
	EOF

section redirections
echo first > f.txt
echo second >> f.txt
cat < f.txt
{ echo out; echo err >&2; } > both.txt 2>&1
cat both.txt
ls nothing 2> err.txt || echo "err lines $(wc -l < err.txt)"
exec 3> fd3.txt; echo "via three" >&3; exec 3>&-; cat fd3.txt
exec 4< f.txt; read -r l <&4; echo "read $l"; exec 4<&-
exec {auto}> auto.txt; echo "auto fd $(( auto >= 10 ))" >&$auto; exec {auto}>&-; cat auto.txt
echo gone > /dev/null; echo "null ok"
echo hi &> amp.txt; cat amp.txt
: > f.txt; [[ -s f.txt ]] || echo truncated
set -o noclobber; { echo no > both.txt; } 2>/dev/null || echo noclobber; echo yes >| both.txt; set +o noclobber; cat both.txt
echo piped | cat /dev/stdin

section pipes
printf '3\n1\n2\n' | sort | tr '\n' ' '; echo
echo "a b c" | while read -r p q r; do echo "$r$q$p"; done
seq 1 100 | grep 7 | wc -l
echo one two | { read -r u v; echo "$v $u"; }
false | true; echo "pipestatus ${PIPESTATUS[*]}"
true | (exit 3) | true; echo "pipestatus ${PIPESTATUS[*]}"
seq 1 100000 | head -1
echo both |& cat

section procsub
cat <(echo from procsub)
diff <(printf 'a\nb\n') <(printf 'a\nb\n') && echo same
while read -r line; do echo "got $line"; done < <(echo x; echo y)
paste <(seq 1 3) <(seq 4 6)
echo data > >(tr a-z A-Z > ps.txt); wait $!; cat ps.txt
# The coprocess answers each line while its input is open: once it ends,
# bash closes its descriptors and unsets UPPER and UPPER_PID.
coproc UPPER { while read -r line; do echo "${line^^}"; done; exit 6; }
upper=$UPPER_PID
echo "to coproc" >&"${UPPER[1]}"
read -r answer <&"${UPPER[0]}"; echo "$answer"
exec {UPPER[1]}>&-
wait "$upper"; echo "coproc status $?"

section traps
trap 'echo "caught USR1"' USR1
kill -USR1 $$; echo after
trap - USR1; trap -p USR1; echo "reset"
( trap 'echo "subshell exit trap, status $?"' EXIT; exit 4 ); echo "subshell status $?"
( trap 'echo "child got TERM"; exit 5' TERM; : > ready; while :; do sleep 0.05; done ) &
child=$!
until [[ -e ready ]]; do sleep 0.05; done
kill -TERM $child; wait $child; echo "child status $?"
( trap 'echo "ERR trap"' ERR; false; echo "on" )
f() { trap 'echo "RETURN trap"' RETURN; echo "in f"; }; f; trap - RETURN
kill -l 15; kill -l TERM

section jobs
sleep 0.2 & p1=$!
( echo "bg output" > bg.txt; exit 3 ) & p2=$!
wait $p2; echo "bg status $?"
wait $p1; echo "sleep status $?"
cat bg.txt
for n in 1 2 3; do ( echo "job $n" > job$n.txt ) & done; wait; cat job1.txt job2.txt job3.txt
# SIGKILL: a SIGTERM that lands between bash's fork and exec is taken by
# bash's own handler in the child and can be lost, so sleep runs to its end.
sleep 10 & long=$!
{ kill -KILL $long; wait $long; } 2>/dev/null; echo "killed $?" # the shell's notice names the pid
{ sh -c 'kill -9 $$'; } 2>/dev/null; echo "self-killed $?" # the shell's notice names the pid
wait; echo "all waited $?"

section errexit
( set -e; true; false; echo "not reached" ); echo "set -e status $?"
( set -o pipefail; false | true; echo "pipefail $?" )
( false | true; echo "no pipefail $?" )
( set -e; if false; then :; fi; false || echo "or ok"; ! true; echo "survived" )
( set -eo pipefail; echo x | false | true; echo "not reached" ); echo "pipefail -e status $?"
( set -e; v=$(false); echo "not reached" ); echo "assignment status $?"
( set -u; : "$undefined_variable"; echo "not reached" ) 2>/dev/null; echo "set -u status $?"
nope 2>/dev/null; echo "missing command $?"
./data.txt 2>/dev/null; echo "not executable $?"

# The last section's marker comes from the EXIT trap, so it shows the trap
# ran (set only now: a child bash forked for a job keeps it, and runs it
# when a signal ends it, which the jobs section would show). The trap sees
# the script's status, 3, and makes it 0.
trap 'status=$?; section end; echo "exit trap, status $status"; exit 0' EXIT
(exit 3)
