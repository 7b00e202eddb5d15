// CPU affinity for `iogate bench`: glibc's sched_{get,set}affinity, which Swift's Glibc module
// hides behind _GNU_SOURCE. A C shim rather than dlsym, so a fully static CLI has them too.
#ifndef IOGATE_AFFINITY_H
#define IOGATE_AFFINITY_H

#include <stddef.h>
#include <sys/types.h>

// As sched_getaffinity/sched_setaffinity(tid, size, mask): 0, or -1 with errno set.
int iogate_get_affinity(pid_t tid, size_t size, void *mask);
int iogate_set_affinity(pid_t tid, size_t size, const void *mask);

#endif
