/*
 * cmd_sql.c - `weir sql [URL]`: the interactive SQL shell, like the ksqlDB CLI, over weir's (or
 * ksqlDB's) REST API.
 *
 * Statements end with ';' and may span lines; the prompt is "ksql> " and "     > " while a
 * statement is incomplete. Line editing and history come from libedit (~/.weir_history).
 * SELECT runs as a push or pull query on /query-stream and streams rows until it ends or Ctrl-C
 * closes the connection (the server then ends the query); PRINT runs on /query; everything else
 * goes to /ksql. SET/UNSET and DEFINE/UNDEFINE are kept here, as the ksqlDB CLI keeps them, and
 * sent with every request (streamsProperties, sessionVariables). RUN SCRIPT 'file' runs a file's
 * statements. Errors are printed as the server sent them.
 *
 * The HTTP client is a plain blocking HTTP/1.1 client (one connection per request), enough for
 * a shell; responses are read as they arrive, chunked or not.
 */
#include <ctype.h>
#include <editline/readline.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "grammar/sql.h"
#include "src/base/buf.h"
#include "src/cli/cli.h"

static const char sql_help[] =
    "usage: weir sql [options] [URL]\n"
    "\n"
    "An interactive SQL shell against a weir (or ksqlDB) server's REST API; URL defaults to\n"
    "http://localhost:8088. Statements end with ';' and may span lines; SELECT ... EMIT CHANGES\n"
    "streams until Ctrl-C.\n"
    "\n"
    "  -e, --execute STATEMENTS   run these statements and exit\n"
    "  -f, --file FILE            run the statements of FILE and exit\n"
    "      --output TABULAR|JSON  how results are shown (default TABULAR)\n"
    "      --define NAME=VALUE    a session variable, for ${NAME} in statements (repeatable)\n"
    "  -u, --user USER            authenticate as USER (HTTP Basic, authentication.method=BASIC)\n"
    "  -p, --password PASSWORD    USER's password (asked for when not given and stdin is a tty)\n"
    "  -h, --help                 this text\n"
    "\n"
    "Shell commands: help, output [TABULAR|JSON], history, clear, version, exit (or quit);\n"
    "RUN SCRIPT 'file'; SET/UNSET 'property'; DEFINE/UNDEFINE variables.\n";

typedef struct kv {
    char *k, *v;
} kv;

typedef struct shell {
    char host[256];
    char port[16];
    bool json;
    kv *props, *vars;
    int nprops, nvars;
    int failures;
    char auth[1500]; /* "Authorization: Basic ...\r\n" with --user; "" without */
} shell;

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* ---- settings kept by the shell ---------------------------------------------------------- */

static void
kv_set(kv **list, int *n, const char *k, const char *v)
{
    for (int i = 0; i < *n; i++)
        if (strcasecmp((*list)[i].k, k) == 0) {
            free((*list)[i].v);
            (*list)[i].v = strdup(v);
            return;
        }
    kv *nl = realloc(*list, (size_t)(*n + 1) * sizeof *nl);
    if (nl == NULL)
        return;
    *list = nl;
    nl[*n] = (kv){strdup(k), strdup(v)};
    (*n)++;
}

static bool
kv_unset(kv *list, int *n, const char *k)
{
    for (int i = 0; i < *n; i++)
        if (strcasecmp(list[i].k, k) == 0) {
            free(list[i].k);
            free(list[i].v);
            list[i] = list[--*n];
            return true;
        }
    return false;
}

static json_t *
kv_json(const kv *list, int n)
{
    json_t *o = json_object();
    for (int i = 0; i < n; i++)
        json_object_set_new(o, list[i].k, json_string(list[i].v));
    return o;
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

typedef struct resp {
    int fd;
    int status;
    bool chunked;
    long long remaining; /* Content-Length left, or -1 (until close) */
    char buf[65536];
    size_t have, off;
    bool eof;
} resp;

/* Reads more bytes; 0 on EOF, -1 on error or interrupt (after Ctrl-C when stoppable). */
static int
fill(resp *r, bool stoppable)
{
    if (r->off > 0 && r->off == r->have)
        r->off = r->have = 0;
    for (;;) {
        if (stoppable && interrupted)
            return -1;
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        int n = poll(&p, 1, 100);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        if (r->have == sizeof r->buf) {
            memmove(r->buf, r->buf + r->off, r->have - r->off);
            r->have -= r->off;
            r->off = 0;
        }
        ssize_t got = read(r->fd, r->buf + r->have, sizeof r->buf - r->have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got == 0 ? 0 : -1;
        r->have += (size_t)got;
        return 1;
    }
}

static char *
read_line(resp *r, char *out, size_t cap, bool stoppable)
{
    for (;;) {
        char *nl = memchr(r->buf + r->off, '\n', r->have - r->off);
        if (nl != NULL) {
            size_t n = (size_t)(nl - (r->buf + r->off));
            size_t c = n < cap - 1 ? n : cap - 1;
            memcpy(out, r->buf + r->off, c);
            out[c] = '\0';
            if (c > 0 && out[c - 1] == '\r')
                out[c - 1] = '\0';
            r->off += n + 1;
            return out;
        }
        if (fill(r, stoppable) <= 0)
            return NULL;
    }
}

static int
http_request(shell *sh, const char *path, const char *accept, const char *body, resp *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int rc = getaddrinfo(sh->host, sh->port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "cannot resolve %s: %s\n", sh->host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *a = ai; a != NULL && r->fd < 0; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            r->fd = fd;
        else if (fd >= 0)
            close(fd);
    }
    freeaddrinfo(ai);
    if (r->fd < 0) {
        fprintf(stderr,
                "Could not connect to the server at http://%s:%s: %s\n"
                "Is `weir server` running there?\n",
                sh->host, sh->port, strerror(errno));
        return -1;
    }
    wr_buf req = WR_BUF_INIT;
    wr_buf_printf(&req,
                  "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                  "Accept: %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                  path, sh->host, sh->port, accept, sh->auth, strlen(body), body);
    size_t off = 0;
    while (off < req.len) {
        ssize_t n = write(r->fd, req.data + off, req.len - off);
        if (n <= 0) {
            fprintf(stderr, "cannot send the request: %s\n", strerror(errno));
            wr_buf_free(&req);
            close(r->fd);
            return -1;
        }
        off += (size_t)n;
    }
    wr_buf_free(&req);
    char line[8192];
    if (read_line(r, line, sizeof line, false) == NULL ||
        sscanf(line, "HTTP/1.%*d %d", &r->status) != 1) {
        fprintf(stderr, "the server closed the connection without an answer\n");
        close(r->fd);
        return -1;
    }
    r->remaining = -1;
    while (read_line(r, line, sizeof line, false) != NULL && line[0] != '\0') {
        if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked"))
            r->chunked = true;
        else if (strncasecmp(line, "Content-Length:", 15) == 0)
            r->remaining = atoll(line + 15);
    }
    return 0;
}

/* Next piece of the body into out (appended); 1: got some, 0: the body ended, -1: error or
   Ctrl-C (stoppable). */
static int
body_next(resp *r, wr_buf *out, bool stoppable)
{
    if (r->eof)
        return 0;
    if (r->chunked) {
        if (r->remaining <= 0) {
            char line[64];
            if (r->remaining == 0 && read_line(r, line, sizeof line, stoppable) == NULL) /* CRLF */
                return -1;
            if (read_line(r, line, sizeof line, stoppable) == NULL)
                return -1;
            r->remaining = strtoll(line, NULL, 16);
            if (r->remaining == 0) {
                r->eof = true;
                return 0;
            }
        }
    } else if (r->remaining == 0) {
        r->eof = true;
        return 0;
    }
    if (r->off == r->have) {
        int f = fill(r, stoppable);
        if (f <= 0) {
            r->eof = f == 0;
            return r->chunked || r->remaining > 0 ? -1 : f;
        }
    }
    size_t n = r->have - r->off;
    if (r->remaining >= 0 && (long long)n > r->remaining)
        n = (size_t)r->remaining;
    wr_buf_append(out, r->buf + r->off, n);
    r->off += n;
    if (r->remaining >= 0)
        r->remaining -= (long long)n;
    return 1;
}

static int
body_all(resp *r, wr_buf *out)
{
    int rc;
    while ((rc = body_next(r, out, false)) == 1)
        ;
    return rc;
}

/* ---- output -----------------------------------------------------------------------------------
 */

static void
print_value(json_t *v, wr_buf *b)
{
    if (json_is_string(v)) {
        wr_buf_printf(b, "%s", json_string_value(v));
    } else {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        wr_buf_printf(b, "%s", t ? t : "?");
        free(t);
    }
}

#define COLW 20

static void
table_rule(int n)
{
    putchar('+');
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < COLW + 2; k++)
            putchar('-');
        putchar('+');
    }
    putchar('\n');
}

static void
table_row(json_t *arr)
{
    putchar('|');
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        wr_buf b = WR_BUF_INIT;
        print_value(v, &b);
        printf(" %-*.*s |", COLW, (int)(b.len < 200 ? b.len : 200), b.len ? (char *)b.data : "");
        wr_buf_free(&b);
    }
    putchar('\n');
}

static void
server_error(shell *sh, const char *body, size_t len, int status)
{
    sh->failures++;
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *m = j ? json_object_get(j, "message") : NULL;
    if (sh->json)
        fprintf(stdout, "%.*s\n", (int)len, body);
    else if (json_is_string(m))
        fprintf(stdout, "%s\n", json_string_value(m));
    else
        fprintf(stdout, "Error (HTTP %d): %.*s\n", status, (int)len, body);
    json_decref(j);
}

/* ---- statements --------------------------------------------------------------------------------
 */

static char *
request_body(shell *sh, const char *field, const char *stmt, const char *props_field)
{
    json_t *o = json_object();
    json_object_set_new(o, field, json_string(stmt));
    json_object_set_new(o, props_field, kv_json(sh->props, sh->nprops));
    json_object_set_new(o, "sessionVariables", kv_json(sh->vars, sh->nvars));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void
run_select(shell *sh, const char *stmt)
{
    char *body = request_body(sh, "sql", stmt, "properties");
    resp r;
    if (body == NULL ||
        http_request(sh, "/query-stream", "application/vnd.ksqlapi.delimited.v1", body, &r) != 0) {
        free(body);
        sh->failures++;
        return;
    }
    free(body);
    wr_buf all = WR_BUF_INIT;
    if (r.status != 200) {
        body_all(&r, &all);
        server_error(sh, (const char *)all.data, all.len, r.status);
        wr_buf_free(&all);
        close(r.fd);
        return;
    }
    interrupted = 0;
    size_t ncols = 0, rows = 0, done = 0;
    bool header = false, stopped = false;
    int rc;
    while ((rc = body_next(&r, &all, true)) == 1 || (rc == 0 && done < all.len)) {
        char *p;
        while ((p = memchr(all.data + done, '\n', all.len - done)) != NULL) {
            size_t n = (size_t)(p - (char *)(all.data + done));
            json_t *j = json_loadb((const char *)all.data + done, n, 0, NULL);
            done += n + 1;
            if (j == NULL)
                continue;
            if (sh->json) {
                char *t = json_dumps(j, JSON_COMPACT);
                printf("%s\n", t ? t : "");
                free(t);
            } else if (!header) {
                json_t *names = json_object_get(j, "columnNames");
                ncols = json_array_size(names);
                table_rule((int)ncols);
                table_row(names);
                table_rule((int)ncols);
                header = true;
            } else if (json_is_array(j)) {
                table_row(j);
                rows++;
            } else if (json_is_string(json_object_get(j, "message"))) {
                printf("%s\n", json_string_value(json_object_get(j, "message")));
                sh->failures++;
            }
            fflush(stdout);
            json_decref(j);
        }
        if (rc == 0)
            break;
    }
    if (rc < 0 && interrupted)
        stopped = true;
    if (!sh->json && header)
        table_rule((int)ncols);
    if (stopped)
        printf("Query terminated\n");
    else if (!sh->json)
        printf("Query Completed (%zu row%s)\n", rows, rows == 1 ? "" : "s");
    interrupted = 0;
    wr_buf_free(&all);
    close(r.fd); /* closing the connection ends the server's query */
}

/* Sends stmt to path and reads the whole answer into all: true on HTTP 200; otherwise the
   server's error is shown (or the request failed) and counted. */
static bool
post_statement(shell *sh, const char *path, const char *accept, const char *stmt, wr_buf *all)
{
    char *body = request_body(sh, "ksql", stmt, "streamsProperties");
    resp r;
    if (body == NULL || http_request(sh, path, accept, body, &r) != 0) {
        free(body);
        sh->failures++;
        return false;
    }
    free(body);
    body_all(&r, all);
    close(r.fd);
    if (r.status != 200) {
        server_error(sh, (const char *)all->data, all->len, r.status);
        return false;
    }
    return true;
}

static void
run_print(shell *sh, const char *stmt)
{
    wr_buf all = WR_BUF_INIT;
    if (post_statement(sh, "/query", "application/vnd.ksql.v1+json", stmt, &all))
        fwrite(all.data, 1, all.len, stdout);
    wr_buf_free(&all);
}

static void
run_ksql(shell *sh, const char *stmt)
{
    wr_buf all = WR_BUF_INIT;
    if (!post_statement(sh, "/ksql", "application/json", stmt, &all)) {
        wr_buf_free(&all);
        return;
    }
    json_t *j = json_loadb(all.len ? (const char *)all.data : "", all.len, 0, NULL);
    size_t i;
    json_t *ent;
    json_array_foreach(j, i, ent)
    {
        if (sh->json) {
            char *t = json_dumps(ent, JSON_INDENT(2));
            printf("%s\n", t ? t : "");
            free(t);
            continue;
        }
        json_t *text = json_object_get(ent, "weirText");
        json_t *st = json_object_get(json_object_get(ent, "commandStatus"), "message");
        if (json_is_string(text))
            printf("%s\n", json_string_value(text));
        else if (json_is_string(st))
            printf("%s\n", json_string_value(st));
        else {
            char *t = json_dumps(ent, JSON_INDENT(2));
            printf("%s\n", t ? t : "");
            free(t);
        }
    }
    if (j == NULL && all.len > 0)
        printf("%.*s\n", (int)all.len, (const char *)all.data);
    json_decref(j);
    wr_buf_free(&all);
}

/* The first word of s, upper-cased, into w. */
static const char *
first_word(const char *s, char *w, size_t cap)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = 0;
    while (s[n] != '\0' && (isalnum((unsigned char)s[n]) || s[n] == '_') && n < cap - 1) {
        w[n] = (char)toupper((unsigned char)s[n]);
        n++;
    }
    w[n] = '\0';
    return s + n;
}

/* A quoted 'text' or a bare word at *s, unquoted into out; advances *s. */
static bool
token(const char **s, char *out, size_t cap)
{
    const char *p = *s;
    while (isspace((unsigned char)*p) || *p == '=')
        p++;
    size_t n = 0;
    if (*p == '\'') {
        p++;
        while (*p != '\0' && n < cap - 1) {
            if (*p == '\'' && p[1] == '\'')
                p++;
            else if (*p == '\'')
                break;
            out[n++] = *p++;
        }
        if (*p != '\'')
            return false;
        p++;
    } else {
        while (*p != '\0' && !isspace((unsigned char)*p) && *p != '=' && *p != ';' && n < cap - 1)
            out[n++] = *p++;
    }
    out[n] = '\0';
    *s = p;
    return n > 0;
}

static void run_text(shell *sh, const char *text);

/* RUN SCRIPT and -f: the statements of a file, run as if typed. */
static int
run_script(shell *sh, const char *path, wr_err *err)
{
    wr_buf text = WR_BUF_INIT;
    int rc = wr_buf_read_file(&text, path, WR_SQL_MAX_TEXT, err);
    wr_buf_put_u8(&text, 0);
    if (rc == WR_OK && !wr_buf_ok(&text))
        rc = wr_err_set(err, WR_ENOMEM, "out of memory reading %s", path);
    if (rc == WR_OK)
        run_text(sh, (const char *)text.data);
    wr_buf_free(&text);
    return rc;
}

static void
run_statement(shell *sh, const char *stmt)
{
    char w[32], w2[32];
    const char *rest = first_word(stmt, w, sizeof w);
    char k[1024], v[4096];
    if (strcmp(w, "SET") == 0 || strcmp(w, "DEFINE") == 0) {
        const char *p = rest;
        if (!token(&p, k, sizeof k) || !token(&p, v, sizeof v)) {
            printf("Usage: %s\n",
                   w[0] == 'S' ? "SET 'property'='value';" : "DEFINE name = 'value';");
            sh->failures++;
            return;
        }
        if (w[0] == 'S') {
            kv_set(&sh->props, &sh->nprops, k, v);
            printf("Successfully changed local property '%s' to '%s'.\n", k, v);
        } else {
            kv_set(&sh->vars, &sh->nvars, k, v);
        }
        return;
    }
    if (strcmp(w, "UNSET") == 0 || strcmp(w, "UNDEFINE") == 0) {
        const char *p = rest;
        if (!token(&p, k, sizeof k)) {
            printf("Usage: %s\n",
                   w[0] == 'U' && w[2] == 'S' ? "UNSET 'property';" : "UNDEFINE name;");
            sh->failures++;
            return;
        }
        if (w[2] == 'S') {
            if (kv_unset(sh->props, &sh->nprops, k))
                printf("Successfully unset local property '%s'.\n", k);
            else
                printf("Property '%s' was not set.\n", k);
        } else {
            kv_unset(sh->vars, &sh->nvars, k);
        }
        return;
    }
    if (strcmp(w, "RUN") == 0) {
        const char *p = first_word(rest, w2, sizeof w2);
        if (strcmp(w2, "SCRIPT") != 0 || !token(&p, k, sizeof k)) {
            printf("Usage: RUN SCRIPT 'file';\n");
            sh->failures++;
            return;
        }
        wr_err err = {0};
        if (run_script(sh, k, &err) != WR_OK) {
            printf("Cannot read the script: %s\n", err.msg);
            sh->failures++;
        }
        return;
    }
    if (strcmp(w, "SELECT") == 0)
        run_select(sh, stmt);
    else if (strcmp(w, "PRINT") == 0)
        run_print(sh, stmt);
    else
        run_ksql(sh, stmt);
}

/* Length of the first complete statement of s (through its ';'), or 0 if there is none yet. */
static size_t
statement_end(const char *s)
{
    char q = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        if (q != 0) {
            if (c == q)
                q = 0;
        } else if (c == '\'' || c == '"' || c == '`') {
            q = c;
        } else if (c == '-' && s[i + 1] == '-') {
            while (s[i + 1] != '\0' && s[i + 1] != '\n')
                i++;
        } else if (c == '/' && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            if (e == NULL)
                return 0;
            i = (size_t)(e - s) + 1;
        } else if (c == ';') {
            return i + 1;
        }
    }
    return 0;
}

static bool
blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s) && *s != ';')
            return false;
    return true;
}

/* Runs every complete statement of text. */
static void
run_text(shell *sh, const char *text)
{
    size_t n;
    while ((n = statement_end(text)) > 0) {
        char *stmt = strndup(text, n);
        if (stmt != NULL && !blank(stmt))
            run_statement(sh, stmt);
        free(stmt);
        text += n;
    }
    if (!blank(text)) {
        /* a last statement without ';' (as -e allows) */
        char *t = strdup(text);
        if (t != NULL) {
            run_statement(sh, t);
            free(t);
        }
    }
}

/* Shell commands (no ';'): true if line was one. */
static bool
shell_command(shell *sh, const char *line, bool *quit)
{
    char w[32];
    const char *rest = first_word(line, w, sizeof w);
    while (isspace((unsigned char)*rest))
        rest++;
    if ((strcmp(w, "EXIT") == 0 || strcmp(w, "QUIT") == 0) && (*rest == '\0' || *rest == ';')) {
        *quit = true;
        return true;
    }
    if (strcmp(w, "HELP") == 0 && (*rest == '\0' || *rest == ';')) {
        fputs(sql_help + strlen("usage: weir sql [options] [URL]\n\n"), stdout);
        return true;
    }
    if (strcmp(w, "VERSION") == 0 && *rest == '\0') {
        printf("weir %s\n", WR_VERSION);
        return true;
    }
    if (strcmp(w, "CLEAR") == 0 && *rest == '\0') {
        printf("\033[H\033[2J");
        return true;
    }
    if (strcmp(w, "HISTORY") == 0 && *rest == '\0') {
        HIST_ENTRY **h = history_list();
        for (int i = 0; h != NULL && h[i] != NULL; i++)
            printf("%5d  %s\n", i + 1, h[i]->line);
        return true;
    }
    if (strcmp(w, "OUTPUT") == 0) {
        char f[32];
        first_word(rest, f, sizeof f);
        if (f[0] == '\0')
            printf("Output format: %s\n", sh->json ? "JSON" : "TABULAR");
        else if (strcmp(f, "JSON") == 0 || strcmp(f, "TABULAR") == 0)
            sh->json = f[0] == 'J', printf("Output format set to %s\n", f);
        else
            printf("Unknown output format %s: TABULAR or JSON\n", f);
        return true;
    }
    return false;
}

static void
interactive(shell *sh)
{
    char hist[4096] = "";
    const char *home = getenv("HOME");
    if (home != NULL) {
        snprintf(hist, sizeof hist, "%s/.weir_history", home);
        read_history(hist);
    }
    printf("weir %s SQL shell, connected to http://%s:%s\n"
           "Type 'help' for help; end statements with ';'; Ctrl-C stops a running query.\n\n",
           WR_VERSION, sh->host, sh->port);
    wr_buf pending = WR_BUF_INIT;
    bool quit = false;
    while (!quit) {
        interrupted = 0;
        char *line = readline(pending.len ? "     > " : "ksql> ");
        if (line == NULL)
            break;         /* Ctrl-D */
        if (interrupted) { /* Ctrl-C at the prompt drops the statement being typed */
            wr_buf_reset(&pending);
            free(line);
            continue;
        }
        if (pending.len == 0 && shell_command(sh, line, &quit)) {
            if (line[0] != '\0')
                add_history(line);
            free(line);
            continue;
        }
        if (pending.len > 0)
            wr_buf_put_u8(&pending, '\n');
        wr_buf_append(&pending, line, strlen(line));
        free(line);
        wr_buf_put_u8(&pending, 0);
        const char *text = (const char *)pending.data;
        size_t n, used = 0;
        while ((n = statement_end(text + used)) > 0) {
            char *stmt = strndup(text + used, n);
            if (stmt != NULL && !blank(stmt)) {
                add_history(stmt);
                run_statement(sh, stmt);
                fflush(stdout);
            }
            free(stmt);
            used += n;
        }
        /* keep what is left of an incomplete statement */
        char *left = strdup(text + used);
        wr_buf_reset(&pending);
        if (left != NULL && !blank(left))
            wr_buf_append(&pending, left, strlen(left));
        free(left);
    }
    wr_buf_free(&pending);
    if (hist[0] != '\0')
        write_history(hist);
}

/* The Authorization header of user and password (asked for on the tty, without echo, when
   NULL). */
static int
set_auth(shell *sh, const char *user, const char *password)
{
    char asked[512] = "";
    if (password == NULL) {
        struct termios t, quiet;
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t) != 0) {
            fprintf(stderr, "weir sql: --user without --password needs a terminal to ask on\n");
            return -1;
        }
        fprintf(stderr, "Password for %s: ", user);
        quiet = t;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        bool ok = fgets(asked, sizeof asked, stdin) != NULL;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
        fputc('\n', stderr);
        if (!ok)
            return -1;
        asked[strcspn(asked, "\r\n")] = 0;
        password = asked;
    }
    size_t ul = strlen(user), pl = strlen(password);
    if (ul == 0 || strchr(user, ':') != NULL || ul + pl > 1000) {
        fprintf(stderr, "weir sql: a user name must be non-empty and without ':', and the two "
                        "at most 1000 bytes\n");
        return -1;
    }
    unsigned char pair[1002];
    memcpy(pair, user, ul);
    pair[ul] = ':';
    memcpy(pair + ul + 1, password, pl);
    char enc[1400];
    EVP_EncodeBlock((unsigned char *)enc, pair, (int)(ul + 1 + pl));
    snprintf(sh->auth, sizeof sh->auth, "Authorization: Basic %s\r\n", enc);
    OPENSSL_cleanse(pair, sizeof pair);
    OPENSSL_cleanse(asked, sizeof asked);
    return 0;
}

int
wr_cmd_sql(int argc, char **argv)
{
    enum { OPT_OUTPUT = 1000, OPT_DEFINE };
    static const struct option longopts[] = {
        {"user", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, 'p'},
        {"execute", required_argument, NULL, 'e'},
        {"file", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"define", required_argument, NULL, OPT_DEFINE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    shell sh = {.host = "localhost", .port = "8088"};
    const char *exec = NULL, *file = NULL, *user = NULL, *password = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "e:f:hu:p:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            user = optarg;
            break;
        case 'p':
            password = optarg;
            break;
        case 'e':
            exec = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case OPT_OUTPUT:
            if (strcasecmp(optarg, "JSON") != 0 && strcasecmp(optarg, "TABULAR") != 0) {
                fprintf(stderr, "weir sql: --output is TABULAR or JSON, not %s\n", optarg);
                return WR_EXIT_USAGE;
            }
            sh.json = strcasecmp(optarg, "JSON") == 0;
            break;
        case OPT_DEFINE: {
            const char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg) {
                fprintf(stderr, "weir sql: --define takes NAME=VALUE, not %s\n", optarg);
                return WR_EXIT_USAGE;
            }
            char *name = strndup(optarg, (size_t)(eq - optarg));
            kv_set(&sh.vars, &sh.nvars, name, eq + 1);
            free(name);
            break;
        }
        case 'h':
            fputs(sql_help, stdout);
            return WR_EXIT_OK;
        default:
            fputs(sql_help, stderr);
            return WR_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        /* http://host:port[/] */
        const char *u = argv[optind];
        if (strncmp(u, "http://", 7) == 0)
            u += 7;
        else if (strstr(u, "://") != NULL) {
            fprintf(stderr, "weir sql: only http:// URLs are supported, not %s\n", argv[optind]);
            return WR_EXIT_USAGE;
        }
        const char *colon = strrchr(u, ':');
        size_t hl = colon ? (size_t)(colon - u) : strcspn(u, "/");
        snprintf(sh.host, sizeof sh.host, "%.*s", (int)hl, u);
        if (colon)
            snprintf(sh.port, sizeof sh.port, "%.*s", (int)strcspn(colon + 1, "/"), colon + 1);
    }
    if (password != NULL && user == NULL) {
        fprintf(stderr, "weir sql: --password needs --user\n");
        return WR_EXIT_USAGE;
    }
    if (user != NULL && set_auth(&sh, user, password) != 0)
        return WR_EXIT_USAGE;
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (file != NULL) {
        wr_err err = {0};
        if (run_script(&sh, file, &err) != WR_OK) {
            fprintf(stderr, "weir sql: %s\n", err.msg);
            return WR_EXIT_FAIL;
        }
    }
    if (exec != NULL)
        run_text(&sh, exec);
    if (file == NULL && exec == NULL)
        interactive(&sh);
    for (int i = 0; i < sh.nprops; i++)
        free(sh.props[i].k), free(sh.props[i].v);
    for (int i = 0; i < sh.nvars; i++)
        free(sh.vars[i].k), free(sh.vars[i].v);
    free(sh.props);
    free(sh.vars);
    return sh.failures > 0 && (file != NULL || exec != NULL) ? WR_EXIT_FAIL : WR_EXIT_OK;
}
