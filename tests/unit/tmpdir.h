/* A scratch folder per test (block image tests): tmpdir_make() in a
 * suite's init, tmpdir_remove() in its fini, tmpdir_path() for files in it. */
#ifndef TANDEM_TEST_TMPDIR_H
#define TANDEM_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <glib.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tmpdir;

static void tmpdir_rm_rf(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
            tmpdir_rm_rf(p);
        else
            unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    rmdir(dir);
}

/* template: "tandem-NAME-XXXXXX" */
static inline void tmpdir_make(const char *template)
{
    tmpdir = g_dir_make_tmp(template, NULL);
    cr_assert(tmpdir);
}

static inline void tmpdir_remove(void)
{
    tmpdir_rm_rf(tmpdir);
    g_free(tmpdir);
}

/* g_free the result. */
static inline char *tmpdir_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

/* Runs a shell command (printf-style) in tmpdir; returns its exit status
 * (logging its output when it fails), and its stdout in *out when out is
 * not NULL (g_free it). */
static int tmpdir_vsh(char **out, const char *fmt, va_list ap)
{
    char *cmd = g_strdup_vprintf(fmt, ap);
    char *full = g_strdup_printf("cd '%s' && %s", tmpdir, cmd);
    char *argv[] = {"/bin/sh", "-c", full, NULL};
    char *o = NULL, *e = NULL;
    int status = -1;
    GError *err = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &o, &e, &status, &err)) {
        cr_log_error("spawn %s: %s", cmd, err->message);
        g_error_free(err);
        status = 127;
    } else {
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        if (status)
            cr_log_error("'%s' exited %d:\n%s%s", cmd, status, o, e);
    }
    if (out)
        *out = g_strdup(o ? o : "");
    g_free(o);
    g_free(e);
    g_free(full);
    g_free(cmd);
    return status;
}

#endif
