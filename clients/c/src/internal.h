/* Shared between libiogate's source files; not installed. */
#ifndef IOGATE_INTERNAL_H
#define IOGATE_INTERNAL_H

#include "iogate.h"

#if defined(__GNUC__)
#define IOGATE_EXPORT __attribute__((visibility("default")))
#define IOGATE_HIDDEN __attribute__((visibility("hidden")))
#define IOGATE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define IOGATE_EXPORT
#define IOGATE_HIDDEN
#define IOGATE_PRINTF(a, b)
#endif

/* Records a local failure (status code and message) on g; returns -err. */
IOGATE_HIDDEN IOGATE_PRINTF(4, 5) int iogate__fail(iogate_t *g, int status, int err, const char *fmt, ...);

#endif
