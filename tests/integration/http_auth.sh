#!/usr/bin/env bash
# http_auth.sh BINARY - HTTP Basic authentication of the ksqlDB API (authentication.method=BASIC)
# against the users of `weir users`, driven with curl over HTTP/1.1 and HTTP/2: 401 with a
# WWW-Authenticate challenge for no, wrong, malformed or foreign credentials; statements, pull
# and push queries for a user with the right password; /livez and /readyz open.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/server_lib.sh"
bin=$1
dir=$(mktemp -d /tmp/weir-http-auth.XXXXXX)
trap 'kill -9 $PID 2>/dev/null || true; rm -rf "$dir"' EXIT
PID=
fail() {
    echo "FAIL: $*" >&2
    tail -20 "$dir/server.log" >&2 || true
    exit 1
}
"$bin" users add alice --password 'p@ss:word' --data-dir "$dir/data" >/dev/null
"$bin" users add bob --password bobpw --mechanism SCRAM-SHA-256 --data-dir "$dir/data" >/dev/null
weir_start "$bin" "$dir" --property authentication.method=BASIC \
    --property authentication.realm=weir-test --property log.flush.policy=none
U=http://127.0.0.1:$HPORT

status() { # ARGS...: the HTTP status of a request
    curl -s -o "$dir/body" -D "$dir/headers" -w '%{http_code}' "$@"
}
[ "$(status "$U/livez")" = 200 ] || fail "/livez is not open"
[ "$(status "$U/readyz")" = 200 ] || fail "/readyz is not open"
check_401() { # DESCRIPTION CURL-ARGS...
    local what=$1 got
    shift
    got=$(status "$@" "$U/info")
    [ "$got" = 401 ] || fail "/info with $what gave $got"
    grep -qi '^WWW-Authenticate: Basic realm="weir-test"' "$dir/headers" ||
        fail "no challenge for $what"
    grep -q '"error_code":40100' "$dir/body" || fail "401 body for $what: $(cat "$dir/body")"
}
check_401 "no credentials"
check_401 "a wrong password" -u alice:wrong
check_401 "an empty password" -u alice:
check_401 "an unknown user" -u nobody:x
check_401 "another user's password" -u 'bob:p@ss:word'
check_401 "a Bearer token" -H "Authorization: Bearer abc"
check_401 "malformed base64" -H "Authorization: Basic !!!!"
check_401 "no ':'" -H "Authorization: Basic YWxpY2U="
# a huge header is refused too, and the server lives on
big=$(head -c 6000 /dev/zero | tr '\0' 'A')
got=$(status -H "Authorization: Basic $big" "$U/info")
[ "$got" = 401 ] || [ "$got" = 431 ] || fail "a 6 KB Authorization gave $got"
# POSTs with bodies are refused before the body is used
got=$(status -X POST -H 'Content-Type: application/json' \
    -d '{"ksql":"CREATE STREAM S (K STRING KEY, V INT) WITH (kafka_topic='"'"'s'"'"', partitions=1, value_format='"'"'JSON'"'"');"}' "$U/ksql")
[ "$got" = 401 ] || fail "an unauthenticated statement gave $got"

[ "$(status -u 'alice:p@ss:word' "$U/info")" = 200 ] || fail "alice (a ':' in her password) was refused"
[ "$(status -u bob:bobpw "$U/info")" = 200 ] || fail "bob (SCRAM-SHA-256 only) was refused"
[ "$(status --http2-prior-knowledge -u bob:bobpw "$U/info")" = 200 ] || fail "HTTP/2 with auth"
[ "$(status --http2-prior-knowledge "$U/info")" = 401 ] || fail "HTTP/2 without auth"
ksql() {
    curl -s -u 'alice:p@ss:word' -X POST -H 'Content-Type: application/vnd.ksql.v1+json' \
        --data-binary "$(python3 -c 'import json,sys; print(json.dumps({"ksql": sys.argv[1]}))' "$1")" "$U/ksql"
}
ksql "CREATE STREAM S (K STRING KEY, V INT) WITH (kafka_topic='s', partitions=1, value_format='JSON');" |
    grep -q '"commandStatus"' || fail "CREATE STREAM as alice"
ksql "CREATE TABLE T AS SELECT K, SUM(V) AS TOTAL FROM S GROUP BY K;" | grep -q '"commandStatus"' ||
    fail "CREATE TABLE as alice"
printf '{"K":"a","V":2}\n{"K":"a","V":3}\n' >"$dir/rows"
curl -s -u bob:bobpw -X POST --http2-prior-knowledge --data-binary @- "$U/inserts-stream" >/dev/null \
    < <(printf '{"target":"S"}\n'; cat "$dir/rows") || fail "inserts-stream as bob"
for _ in $(seq 1 100); do
    out=$(curl -s -u bob:bobpw -X POST -H 'Content-Type: application/vnd.ksql.v1+json' \
        -d '{"ksql":"SELECT * FROM T WHERE K='"'"'a'"'"';"}' "$U/query")
    grep -q '"a",5' <<<"$out" && break
    sleep 0.1
done
grep -q '"a",5' <<<"$out" || fail "pull query as bob: $out"
# the shell, with and without credentials
out=$("$bin" sql -u alice -p 'p@ss:word' -e "SHOW STREAMS;" "$U" 2>&1) || fail "weir sql -u: $out"
grep -q '\bS\b' <<<"$out" || fail "weir sql -u did not list S: $out"
if out=$("$bin" sql -e "SHOW STREAMS;" "$U" 2>&1) && grep -q '\bS\b' <<<"$out"; then
    fail "weir sql without credentials listed the streams: $out"
fi
grep -q "Unauthorized" <<<"$out" || fail "weir sql without credentials: $out"
out=$("$bin" sql -u alice -p wrong -e "SHOW STREAMS;" "$U" 2>&1 || true)
grep -q "Unauthorized" <<<"$out" || fail "weir sql with a wrong password: $out"
grep -q "authentication failed: invalid credentials for 'alice'" "$dir/server.log" ||
    fail "no log line for a failed login"
echo OK
