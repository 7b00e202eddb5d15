// System calls that glibc's Swift overlay does not import (variadic or _GNU_SOURCE-only).
#ifndef IOGATE_SYS_H
#define IOGATE_SYS_H

// prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); returns 0 or -1 with errno set.
int iogate_set_no_new_privs(void);
// prctl(PR_GET_NO_NEW_PRIVS); returns 1, 0, or -1.
int iogate_get_no_new_privs(void);

// Installs the daemon's seccomp filter (see seccomp.c); returns 0 or a negative errno.
int iogate_install_seccomp(void);
// 1 when the kernel supports seccomp filters.
int iogate_seccomp_status(void);

#endif
