// standind CONFIG   (harness development only: `run.sh --standin`)
//
// Stands in for iogated while the real aarch64 binaries do not exist, so the emulated-Pi harness can
// be proved end to end: it does what the guest checks observe from outside the daemon, not what the
// daemon serves. It maps the BCM2837 GPIO block (0x3F200000) from /dev/mem (refused with EPERM on a
// kernel booted without iomem=relaxed, which it reports naming IO_STRICT_DEVMEM), reads `user = N`
// from CONFIG, drops to that uid and its gid (65534), sets no_new_privs and installs an allow-all
// seccomp filter (so /proc/PID/status shows Seccomp: 2), prints `ready`, then on SIGHUP re-reads
// CONFIG as the dropped account and on SIGTERM exits 0. The guest always reports a FAIL in this mode.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int config_user(const char *path, long *user) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, " user = %ld", user) == 1) found = 1;
    }
    fclose(f);
    return found ? 0 : -2;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: standind CONFIG\n");
        return 2;
    }
    long user = -1;
    if (config_user(argv[1], &user) != 0) {
        fprintf(stderr, "standind: error: cannot read 'user = N' from %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int fd = open("/dev/mem", O_RDWR | O_SYNC);
    if (fd < 0) {
        fprintf(stderr, "standind: error: open /dev/mem: %s\n", strerror(errno));
        return 1;
    }
    volatile unsigned int *gpio = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0x3F200000);
    if (gpio == MAP_FAILED) {
        fprintf(stderr, "standind: error: mmap of /dev/mem at 0x3f200000: %s (IO_STRICT_DEVMEM: the range is claimed; boot with iomem=relaxed or unbind the driver)\n",
                strerror(errno));
        return 1;
    }
    fprintf(stderr, "standind: GPFSEL1 = 0x%08x\n", gpio[1]);
    if (setgroups(0, NULL) != 0 || setgid((gid_t)user) != 0 || setuid((uid_t)user) != 0) {
        fprintf(stderr, "standind: error: dropping to %ld: %s\n", user, strerror(errno));
        return 1;
    }
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {.len = 1, .filter = allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        fprintf(stderr, "standind: error: seccomp: %s\n", strerror(errno));
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    fprintf(stderr, "standind: ready (stand-in for iogated)\n");
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) return 1;
        if (sig == SIGTERM) {
            fprintf(stderr, "standind: SIGTERM, exiting\n");
            return 0;
        }
        long again = -1;
        if (config_user(argv[1], &again) == 0) {
            fprintf(stderr, "standind: policy reloaded from %s\n", argv[1]);
        } else {
            fprintf(stderr, "standind: reload refused: %s: %s\n", argv[1], strerror(errno));
        }
    }
}
