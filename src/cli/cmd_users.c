/*
 * cmd_users.c - `weir users add|delete|list`: the SCRAM users of a data directory, offline.
 *
 * Works on a data directory no server holds (the directory lock says so). Credentials are kept
 * salted (src/security/creds.h); the password is read from --password or from the first line
 * of --password-file (which keeps it out of the process list). Without --mechanism, add and
 * delete act on both SCRAM-SHA-256 and SCRAM-SHA-512, so a client may use either. Kafka's
 * online way (AlterUserScramCredentials) is not served yet.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli/cli.h"
#include "src/security/creds.h"

static const char users_help[] =
    "usage: weir users add NAME (--password P | --password-file F) [--mechanism M]\n"
    "                      [--iterations N] --data-dir DIR\n"
    "       weir users delete NAME [--mechanism M] --data-dir DIR\n"
    "       weir users list --data-dir DIR\n"
    "\n"
    "M is SCRAM-SHA-256 or SCRAM-SHA-512 (default: both). N is the SCRAM iteration count,\n"
    "4096 to 16384 (default 8192). The data directory must not be in use by a server.\n\n"
    WR_CLI_COMMON_HELP;

static int
print_user(void *arg, const char *user, const wr_scram_cred *cred)
{
    (void)arg;
    printf("%s\t%s\titerations=%d\n", user, wr_scram_mech_name(cred->mech), (int)cred->iterations);
    return 0;
}

/* The first line of path into pw (at most cap-1 bytes); false when unreadable or empty. */
static bool
read_password(const char *path, char *pw, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool ok = fgets(pw, (int)cap, f) != NULL;
    fclose(f);
    if (ok)
        pw[strcspn(pw, "\r\n")] = 0;
    return ok && pw[0] != 0;
}

int
wr_cmd_users(int argc, char **argv)
{
    enum { OPT_PASSWORD = WR_OPT__COMMON_END, OPT_PASSWORD_FILE, OPT_MECH, OPT_ITER };
    static const struct option longopts[] = {
        WR_CLI_COMMON_LONGOPTS,
        {"password", required_argument, NULL, OPT_PASSWORD},
        {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
        {"mechanism", required_argument, NULL, OPT_MECH},
        {"iterations", required_argument, NULL, OPT_ITER},
        {NULL, 0, NULL, 0},
    };
    wr_cli cli;
    wr_cli_init(&cli, "weir users");
    int status = WR_EXIT_USAGE;
    bool failed = false;
    char pw[1025] = "";
    bool have_pw = false, all_mechs = true;
    wr_scram_mech mech = WR_SCRAM_SHA_512;
    int64_t iterations = WR_SCRAM_DEFAULT_ITER;
    wr_logdb *db = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (wr_cli_common_opt(&cli, opt, optarg, &failed))
            continue;
        switch (opt) {
        case 'h':
            fputs(users_help, stdout);
            status = WR_EXIT_OK;
            goto out;
        case OPT_PASSWORD:
            if (strlen(optarg) == 0 || strlen(optarg) >= sizeof pw) {
                wr_cli_errorf(&cli, "--password must have 1 to 1024 bytes");
                goto out;
            }
            strcpy(pw, optarg);
            have_pw = true;
            break;
        case OPT_PASSWORD_FILE:
            if (!read_password(optarg, pw, sizeof pw)) {
                wr_cli_errorf(&cli, "cannot read a password from '%s'", optarg);
                goto out;
            }
            have_pw = true;
            break;
        case OPT_MECH:
            if (!wr_scram_mech_parse(optarg, &mech)) {
                wr_cli_errorf(&cli, "--mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512, not '%s'",
                              optarg);
                goto out;
            }
            all_mechs = false;
            break;
        case OPT_ITER:
            if (!wr_parse_i64(optarg, &iterations) || iterations < WR_SCRAM_MIN_ITER ||
                iterations > WR_SCRAM_MAX_ITER) {
                wr_cli_errorf(&cli, "--iterations must be a number from %d to %d",
                              WR_SCRAM_MIN_ITER, WR_SCRAM_MAX_ITER);
                goto out;
            }
            break;
        default:
            fputs(users_help, stderr);
            goto out;
        }
    }
    if (failed || !wr_cli_apply(&cli))
        goto out;
    if (optind >= argc) {
        fputs(users_help, stderr);
        goto out;
    }
    const char *verb = argv[optind++];
    int nargs = argc - optind;
    const char *name = nargs > 0 ? argv[optind] : NULL;
    bool is_add = strcmp(verb, "add") == 0, is_del = strcmp(verb, "delete") == 0,
         is_list = strcmp(verb, "list") == 0;
    if (!is_add && !is_del && !is_list) {
        wr_cli_errorf(&cli, "unknown verb '%s' (add, delete, list)", verb);
        goto out;
    }
    if ((is_list && nargs != 0) || (!is_list && nargs != 1)) {
        fputs(users_help, stderr);
        goto out;
    }
    if (name != NULL && !wr_scram_user_valid(name)) {
        wr_cli_errorf(&cli, "'%s' is not a valid user name (1 to %d bytes of UTF-8, no control "
                            "characters)",
                      name, WR_SCRAM_MAX_USER);
        goto out;
    }
    if (is_add && !have_pw) {
        wr_cli_errorf(&cli, "add needs --password or --password-file");
        goto out;
    }
    if (wr_config_get(&cli.cfg, WR_CFG_BOOTSTRAP) != NULL) {
        wr_cli_errorf(&cli, "users are managed on a data directory (--data-dir) for now; "
                            "AlterUserScramCredentials is not served yet");
        goto out;
    }
    status = WR_EXIT_FAIL;
    if (wr_cli_open_log(&cli, &db) != WR_OK)
        goto out;
    wr_err err = {0};
    if (is_list) {
        if (wr_creds_list(db, print_user, NULL, &err) != WR_OK) {
            wr_cli_errorf(&cli, "%s", err.msg);
            goto out;
        }
        status = WR_EXIT_OK;
        goto out;
    }
    int done = 0;
    for (int m = WR_SCRAM_SHA_256; m <= WR_SCRAM_SHA_512; m++) {
        if (!all_mechs && m != (int)mech)
            continue;
        if (is_add) {
            wr_scram_cred cred;
            if (wr_scram_cred_make((wr_scram_mech)m, pw, strlen(pw), NULL, 0, (int32_t)iterations,
                                   &cred, &err) != WR_OK ||
                wr_creds_put(db, name, &cred, &err) != WR_OK) {
                wr_cli_errorf(&cli, "cannot add '%s': %s", name, err.msg);
                goto out;
            }
            printf("Added %s credential for user %s.\n", wr_scram_mech_name((wr_scram_mech)m),
                   name);
            done++;
        } else {
            int rc = wr_creds_delete(db, name, (wr_scram_mech)m, &err);
            if (rc == WR_OK) {
                printf("Deleted %s credential of user %s.\n",
                       wr_scram_mech_name((wr_scram_mech)m), name);
                done++;
            } else if (rc != WR_ENOENT) {
                wr_cli_errorf(&cli, "cannot delete '%s': %s", name, err.msg);
                goto out;
            }
        }
    }
    if (done == 0) {
        wr_cli_errorf(&cli, "user '%s' has no %s credential", name,
                      all_mechs ? "SCRAM" : wr_scram_mech_name(mech));
        goto out;
    }
    status = WR_EXIT_OK;
out:
    memset(pw, 0, sizeof pw);
    wr_log_close(db);
    wr_cli_cleanup(&cli);
    return status;
}
