#define _GNU_SOURCE
#include "iogate_affinity.h"

#include <sched.h>

int iogate_get_affinity(pid_t tid, size_t size, void *mask) { return sched_getaffinity(tid, size, (cpu_set_t *)mask); }
int iogate_set_affinity(pid_t tid, size_t size, const void *mask) { return sched_setaffinity(tid, size, (const cpu_set_t *)mask); }
