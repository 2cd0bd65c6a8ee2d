#!/usr/bin/env bash
# sql_shell.sh - `weir sql` as a person uses it: in a terminal (tmux), against the real server.
# A statement typed over two lines, INSERT, a local SET, a push query that streams a row and is
# cancelled with Ctrl-C (the server's push query must end too), a syntax error shown as the
# server sent it, and the shell still working after all that. Then the non-interactive forms:
# -e, -f with RUN SCRIPT, --define, --output JSON, and the exit status of a failing statement.
#   sql_shell.sh WEIR_BINARY   (WEIR_SERVER=another binary for the server, e.g. a sanitizer build)
set -uo pipefail
WEIR=$1
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }

DIR=$(mktemp -d /tmp/weir-shell-test.XXXXXX)
PID=
SOCK="$DIR/tmux.sock"
trap 'tmux -S "$SOCK" kill-server 2>/dev/null; [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
expect_has() { if grep -qF -- "$2" <<<"$1"; then ok "$3"; else bad "$3: lacks [$2] in:"; echo "$1"; fi; }
expect_eq() { if [ "$1" == "$2" ]; then ok "$3"; else bad "$3: got [$1], want [$2]"; fi; }

. "$(cd "$(dirname "$0")" && pwd)/server_lib.sh"
weir_start "${WEIR_SERVER:-$WEIR}" "$DIR" || exit 1
URL="http://127.0.0.1:$HPORT"

tm() { tmux -S "$SOCK" "$@"; }
type_line() { # tmux takes an argument's last ';' as its own separator: send it as a byte
    local text=$1
    tm send-keys -t shell -l "${text%;}"
    [ "${text%;}" != "$text" ] && tm send-keys -t shell -H 3b
    tm send-keys -t shell Enter
}
screen() { tm capture-pane -t shell -p -S -200; }
wait_for() { # text [seconds]: until the screen shows text
    for _ in $(seq 1 $((${2:-10} * 10))); do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    return 1
}

tm new-session -d -s shell -x 160 -y 50 "env HOME=$DIR TERM=xterm $WEIR sql $URL; sleep 600"
wait_for "ksql>" || bad "the prompt appears"

type_line "CREATE STREAM pets (id INT KEY,"
wait_for "     >" && ok "an unfinished statement gets the continuation prompt" || bad "continuation prompt"
type_line "  name STRING) WITH (kafka_topic='pets', value_format='JSON', partitions=1);"
wait_for "Stream PETS created" && ok "a statement over two lines runs" || bad "multi-line statement"
type_line "INSERT INTO pets (id, name) VALUES (7, 'rex');"
type_line "SET 'auto.offset.reset'='earliest';"
wait_for "Successfully changed local property 'auto.offset.reset' to 'earliest'." &&
    ok "SET is kept by the shell" || bad "SET"
type_line "SELECT id, name FROM pets EMIT CHANGES;"
wait_for "rex" && ok "the push query streams its row" || bad "push query row"
expect_has "$(curl -s "$URL/metrics")" 'weir_queries{query_type="push"} 1' "the push query runs on the server"
tm send-keys -t shell C-c
wait_for "Query terminated" && ok "Ctrl-C cancels the push query" || bad "Ctrl-C"
for _ in $(seq 1 50); do
    curl -s "$URL/metrics" | grep -q 'weir_queries{query_type="push"} 0' && break
    sleep 0.1
done
expect_has "$(curl -s "$URL/metrics")" 'weir_queries{query_type="push"} 0' "... and the server ends it"
type_line "SELEC * FROM pets;"
wait_for "Unknown statement 'SELEC'" && ok "an error is shown as the server sent it" || bad "error"
type_line "SHOW STREAMS;"
wait_for " PETS | pets" && ok "the shell goes on after an error and a cancelled query" || bad "after error"
type_line "exit"
sleep 0.3
screen >"$DIR/screen.txt"
expect_has "$(cat "$DIR/screen.txt")" "| 7                    | rex                  |" "rows are shown as a table"
[ -s "$DIR/.weir_history" ] && ok "history is saved" || bad "history file"

# ---- the non-interactive forms
r=$("$WEIR" sql "$URL" -e "DESCRIBE pets;" 2>&1)
expect_has "$r" " NAME | STRING" "-e runs a statement"
cat >"$DIR/inner.sql" <<'SQL'
CREATE STREAM ${prefix}_names AS SELECT id, UCASE(name) AS name FROM pets;
SQL
printf "SET 'auto.offset.reset'='earliest';\nRUN SCRIPT '%s';\n" "$DIR/inner.sql" >"$DIR/outer.sql"
r=$("$WEIR" sql "$URL" --define prefix=big -f "$DIR/outer.sql" 2>&1)
expect_has "$r" "Created query with ID CSAS_BIG_NAMES_0" "-f, RUN SCRIPT and --define"
r=$("$WEIR" sql "$URL" --output JSON -e "SET 'auto.offset.reset'='earliest'; SELECT * FROM big_names;" 2>&1)
expect_has "$r" '[7,"REX"]' "--output JSON, and the CSAS made by the script ran"
"$WEIR" sql "$URL" -e "DROP STREAM nothing_here;" >"$DIR/err" 2>&1
expect_eq "$?" 1 "a failing statement makes -e exit 1"
expect_has "$(cat "$DIR/err")" "does not exist" "... and says why"
"$WEIR" sql http://127.0.0.1:1 -e "SHOW STREAMS;" >"$DIR/err" 2>&1
expect_eq "$?" 1 "no server: exit 1"
expect_has "$(cat "$DIR/err")" "Could not connect" "... with a clear message"

kill "$PID"
wait "$PID"
expect_eq "$?" 0 "the server stops cleanly"
PID=

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
