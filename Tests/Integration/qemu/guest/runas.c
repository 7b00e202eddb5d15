// runas UID GID[,GID...] PROGRAM [ARG...]
//
// Runs PROGRAM as the given numeric uid and gid; further gids after commas become its supplementary
// groups (none by default). The QEMU guest has only
// a static busybox, whose setpriv cannot change ids and which has no chpst, so the harness builds this
// with `gcc -static` to run the `iogate` CLI as an unprivileged client.
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long parse_id(const char *text, const char *what) {
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') {
        fprintf(stderr, "runas: %s must be a decimal number, got '%s'\n", what, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: runas UID GID[,GID...] PROGRAM [ARG...]\n");
        return 2;
    }
    uid_t uid = (uid_t)parse_id(argv[1], "UID");
    gid_t groups[16];
    size_t ngroups = 0;
    for (char *g = strtok(argv[2], ","); g != NULL; g = strtok(NULL, ",")) {
        if (ngroups == sizeof groups / sizeof groups[0]) { fprintf(stderr, "runas: at most 16 gids\n"); return 2; }
        groups[ngroups++] = (gid_t)parse_id(g, "GID");
    }
    if (ngroups == 0) { fprintf(stderr, "runas: no GID given\n"); return 2; }
    gid_t gid = groups[0];
    // Order matters: groups and gid can only be changed while still root.
    if (setgroups(ngroups - 1, groups + 1) != 0) { perror("runas: setgroups"); return 126; }
    if (setgid(gid) != 0) { perror("runas: setgid"); return 126; }
    if (setuid(uid) != 0) { perror("runas: setuid"); return 126; }
    if (getuid() != uid || geteuid() != uid || getgid() != gid) {
        fprintf(stderr, "runas: ids did not change\n");
        return 126;
    }
    execvp(argv[3], argv + 3);
    fprintf(stderr, "runas: cannot run %s: %s\n", argv[3], strerror(errno));
    return 127;
}
