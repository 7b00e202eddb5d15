/*
 * libiogate: a client of iogated's wire protocol (docs/PROTOCOL.md), versions 1 to 3.
 * Standard C11 plus POSIX sockets; no dependencies beyond libc.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Opcodes and fixed values of the protocol (PROTOCOL.md sections 3 and 5). */
enum {
    OP_HELLO = 0x01,
    OP_WINDOWS = 0x02,
    OP_GRANTS = 0x03,
    OP_READ = 0x10,
    OP_WRITE = 0x11,
    OP_MODIFY = 0x12,
    OP_WAIT = 0x13,
    OP_BATCH = 0x20,
    OP_COMPACT_BATCH = 0x21
};
#define HELLO_MAGIC 0x54474F49u
#define HEADER_BYTES 12u                      /* length prefix + opcode, flags, status, id */
#define MAX_MESSAGE 4096                      /* the daemon cuts messages at 4032 bytes */
#define MAX_RESPONSE ((size_t)1 << 28)        /* sanity bound on a response's length */
#define KIND_READ 1
#define KIND_WRITE 2
#define KIND_MODIFY 3

struct iogate {
    int fd;
    int broken; /* the stream is unusable: the daemon closed it or it lost sync */
    uint32_t next_id;
    unsigned version;
    struct iogate_limits limits;
    int status;
    unsigned last_opcode;
    char message[MAX_MESSAGE + 1];
    struct iogate_error_details details; /* of the last failure (section 7.1) */
    uint8_t *sbuf; /* request frame being built */
    size_t scap;
    uint8_t *rbuf; /* last response frame (after the length prefix) */
    size_t rcap;
};

struct batch_op {
    uint8_t kind;
    uint8_t width;
    uint64_t addr;
    uint64_t mask;
    uint64_t value;
};

struct iogate_batch {
    struct batch_op *ops;
    size_t count;
    size_t cap;
};

/* ---- Little-endian encoding ---------------------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, unsigned bytes) {
    for (unsigned i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int valid_width(unsigned width) { return width == 1 || width == 2 || width == 4 || width == 8; }

/* Element i of a host-order array of `width`-byte integers. */
static uint64_t host_element(const void *buf, unsigned width, size_t i) {
    const uint8_t *p = (const uint8_t *)buf + i * width;
    switch (width) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void set_host_element(void *buf, unsigned width, size_t i, uint64_t value) {
    uint8_t *p = (uint8_t *)buf + i * width;
    switch (width) {
    case 1: *p = (uint8_t)value; break;
    case 2: { uint16_t v = (uint16_t)value; memcpy(p, &v, 2); break; }
    case 4: { uint32_t v = (uint32_t)value; memcpy(p, &v, 4); break; }
    default: memcpy(p, &value, 8); break;
    }
}

/* ---- Errors -------------------------------------------------------------------------------- */

static const char *const status_names[] = {
    "ok", "malformed", "unsupported-version", "unknown-operation", "limit-exceeded",
    "outside-allowlist", "read-only", "misaligned", "bad-width", "timeout", "config", "board",
    "mapping", "system", "not-found", "bad-state", "unreachable", "line-busy", "bus-fault",
};

IOGATE_EXPORT const char *iogate_status_name(int status) {
    if (status < 0 || (size_t)status >= sizeof status_names / sizeof status_names[0]) return "unknown";
    return status_names[status];
}

/* The errno a daemon status maps to (see iogate.h). */
static int status_errno(int status) {
    switch (status) {
    case IOGATE_ST_MALFORMED: return EPROTO;
    case IOGATE_ST_UNSUPPORTED_VERSION: return EPROTONOSUPPORT;
    case IOGATE_ST_UNKNOWN_OPERATION: return EOPNOTSUPP;
    case IOGATE_ST_LIMIT_EXCEEDED: return E2BIG;
    case IOGATE_ST_OUTSIDE_ALLOWLIST: return EACCES;
    case IOGATE_ST_READ_ONLY: return EACCES;
    case IOGATE_ST_MISALIGNED: return EINVAL;
    case IOGATE_ST_BAD_WIDTH: return EINVAL;
    case IOGATE_ST_TIMEOUT: return ETIMEDOUT;
    case IOGATE_ST_NOT_FOUND: return ENOENT;
    case IOGATE_ST_BAD_STATE: return EPROTO;
    case IOGATE_ST_UNREACHABLE: return ECONNREFUSED;
    case IOGATE_ST_LINE_BUSY: return EBUSY;
    case IOGATE_ST_BUS_FAULT: return EIO;
    default: return EIO;
    }
}

/* Records a local failure (status code and message); returns -err. */
int iogate__fail(iogate_t *g, int status, int err, const char *fmt, ...) {
    va_list ap;
    g->status = status;
    memset(&g->details, 0, sizeof g->details);
    va_start(ap, fmt);
    vsnprintf(g->message, sizeof g->message, fmt, ap);
    va_end(ap);
    return -err;
}
#define fail iogate__fail /* its short name in this file */

/* strerror is not thread-safe; this is (XSI strerror_r into the caller's buffer). */
static const char *errno_text(int e, char *buf, size_t len) {
    if (strerror_r(e, buf, len) != 0) snprintf(buf, len, "error %d", e);
    return buf;
}

/* Records a failed system call (errno e) while talking to the daemon; the stream is then unusable. */
static int fail_io(iogate_t *g, int e, const char *what) {
    char t[128];
    g->broken = 1;
    if (e == EPIPE || e == ECONNRESET)
        return fail(g, IOGATE_ST_UNREACHABLE, ECONNRESET, "iogated closed the connection (%s: %s)", what, errno_text(e, t, sizeof t));
    return fail(g, IOGATE_ST_SYSTEM, e, "%s on the iogated socket failed: %s", what, errno_text(e, t, sizeof t));
}

IOGATE_EXPORT int iogate_status(const iogate_t *g) { return g ? g->status : IOGATE_ST_OK; }

IOGATE_EXPORT const char *iogate_errmsg(const iogate_t *g) { return g ? g->message : "no handle"; }

IOGATE_EXPORT int iogate_error_details(const iogate_t *g, struct iogate_error_details *out) {
    if (!g || !out) return -EINVAL;
    *out = g->details;
    return 0;
}

/* Copies a UTF-8 record value of n bytes (n <= 255) into a NUL-terminated field of 256 bytes. */
static void copy_text(char *dst, const uint8_t *src, size_t n) {
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/*
 * An error response's body: on version 3 the message up to the first zero byte, then TLV records
 * (tag u8, length u8, value); before version 3 the whole body is the message. Records with an
 * unknown tag or an unexpected length are skipped by their length; a cut record ends the list.
 */
static void error_body(iogate_t *g, const uint8_t *body, size_t blen) {
    struct iogate_error_details *d = &g->details;
    memset(d, 0, sizeof *d);
    size_t mlen = blen;
    if (g->version >= 3) {
        const uint8_t *zero = memchr(body, 0, blen);
        if (zero) mlen = (size_t)(zero - body);
    }
    size_t n = mlen < MAX_MESSAGE ? mlen : MAX_MESSAGE;
    memcpy(g->message, body, n);
    g->message[n] = '\0';
    if (mlen == blen) return;
    size_t pos = mlen + 1;
    while (blen - pos >= 2) {
        uint8_t tag = body[pos], len = body[pos + 1];
        const uint8_t *v = body + pos + 2;
        if (blen - pos - 2 < len) break;
        pos += 2 + (size_t)len;
        switch (tag) {
        case 1:
            if (len == 8) d->has_address = 1, d->address = get_le(v, 8);
            break;
        case 2:
            if (len == 8) d->has_size = 1, d->size = get_le(v, 8);
            break;
        case 3:
            if (len == 17) {
                if (d->granted_count < IOGATE_MAX_GRANTED) {
                    struct iogate_granted_range *r = &d->granted[d->granted_count];
                    r->base = get_le(v, 8);
                    r->length = get_le(v + 8, 8);
                    r->writable = v[16] == 1;
                }
                d->granted_count++;
            }
            break;
        case 4:
            if (len == 4) d->has_pin = 1, d->pin = (uint32_t)get_le(v, 4);
            break;
        case 5:
            d->has_consumer = 1;
            copy_text(d->consumer, v, len);
            break;
        case 6:
            if (len == 4) {
                uint32_t u = (uint32_t)get_le(v, 4);
                d->has_sys_errno = 1;
                d->sys_errno = u <= INT32_MAX ? (int32_t)u : (int32_t)(u - INT32_MAX - 1) + INT32_MIN;
            }
            break;
        case 7:
            d->has_call = 1;
            copy_text(d->call, v, len);
            break;
        case 8:
            if (len == 4) d->has_operation = 1, d->operation = (uint32_t)get_le(v, 4);
            break;
        default: break; /* a later version's record */
        }
    }
}

IOGATE_EXPORT unsigned iogate_last_opcode(const iogate_t *g) { return g ? g->last_opcode : 0; }

IOGATE_EXPORT unsigned iogate_protocol_version(const iogate_t *g) { return g ? g->version : 0; }

IOGATE_EXPORT void iogate_get_limits(const iogate_t *g, struct iogate_limits *limits) {
    if (g && limits) *limits = g->limits;
}

/* ---- Transport ----------------------------------------------------------------------------- */

static int send_all(iogate_t *g, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = send(g->fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            return fail_io(g, errno, "send");
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int recv_all(iogate_t *g, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = recv(g->fd, p, n, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            return fail_io(g, errno, "recv");
        }
        if (k == 0) {
            g->broken = 1;
            return fail(g, IOGATE_ST_UNREACHABLE, ECONNRESET,
                        "iogated closed the connection before answering (idle timeout, shutdown or a stream error)");
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int reserve(uint8_t **buf, size_t *cap, size_t need) {
    if (*cap >= need) return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need) n = n > SIZE_MAX / 2 ? need : n * 2;
    uint8_t *p = realloc(*buf, n);
    if (!p) return -ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

/* Room for a request body of `len` bytes; the body starts at the returned pointer. */
static uint8_t *request_body(iogate_t *g, size_t len) {
    if (len > SIZE_MAX - HEADER_BYTES || reserve(&g->sbuf, &g->scap, HEADER_BYTES + len) != 0) return NULL;
    memset(g->sbuf, 0, HEADER_BYTES + len);
    return g->sbuf + HEADER_BYTES;
}

/*
 * Sends the request built by request_body (opcode, `len` body bytes) and reads its response.
 * On success, *resp and *rlen are the response body. A daemon refusal records its status and
 * message and returns the mapped errno.
 */
static int call(iogate_t *g, uint8_t opcode, size_t len, const uint8_t **resp, size_t *rlen) {
    if (g->broken)
        return fail(g, IOGATE_ST_UNREACHABLE, ENOTCONN, "the connection to iogated was closed by an earlier error; open a new handle");
    if (g->version != 0 && 8 + (uint64_t)len > g->limits.max_frame)
        return fail(g, IOGATE_ST_LIMIT_EXCEEDED, EMSGSIZE, "request of %zu bytes exceeds the daemon's max_frame of %u bytes",
                    8 + len, g->limits.max_frame);
    if (8 + (uint64_t)len > UINT32_MAX)
        return fail(g, IOGATE_ST_LIMIT_EXCEEDED, EMSGSIZE, "request of %zu bytes does not fit a frame", len);
    uint32_t id = g->next_id++;
    if (g->next_id == 0) g->next_id = 1;
    put_le(g->sbuf, 8 + (uint64_t)len, 4);
    g->sbuf[4] = opcode;
    g->sbuf[5] = 0;
    put_le(g->sbuf + 6, 0, 2);
    put_le(g->sbuf + 8, id, 4);
    g->last_opcode = opcode;
    int r = send_all(g, g->sbuf, HEADER_BYTES + len);
    if (r) return r;

    uint8_t prefix[4];
    if ((r = recv_all(g, prefix, 4))) return r;
    uint32_t length = (uint32_t)get_le(prefix, 4);
    if (length < 8 || length > MAX_RESPONSE) {
        g->broken = 1;
        return fail(g, IOGATE_ST_MALFORMED, EPROTO, "iogated sent a frame length of %u bytes (expected 8 to %zu)", length,
                    (size_t)MAX_RESPONSE);
    }
    if (reserve(&g->rbuf, &g->rcap, length)) {
        g->broken = 1; /* the unread response cannot be skipped without memory */
        return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory for a response of %u bytes", length);
    }
    if ((r = recv_all(g, g->rbuf, length))) return r;
    uint8_t rop = g->rbuf[0], flags = g->rbuf[1];
    uint16_t status = (uint16_t)get_le(g->rbuf + 2, 2);
    uint32_t rid = (uint32_t)get_le(g->rbuf + 4, 4);
    const uint8_t *body = g->rbuf + 8;
    size_t blen = length - 8;
    if (status != 0) {
        error_body(g, body, blen);
        g->status = status;
        /* A stream error (opcode 0, id 0), an error before the handshake and a version refusal
         * are followed by the daemon closing the connection (PROTOCOL.md section 8). */
        if ((rop == 0 && rid == 0) || g->version == 0 || status == IOGATE_ST_UNSUPPORTED_VERSION) g->broken = 1;
        return -status_errno(status);
    }
    if (!(flags & 1) || rop != opcode || rid != id) {
        g->broken = 1;
        return fail(g, IOGATE_ST_MALFORMED, EPROTO,
                    "iogated's response (opcode 0x%02X, flags 0x%02X, id %u) does not match the request (opcode 0x%02X, id %u)",
                    rop, flags, rid, opcode, id);
    }
    *resp = body;
    *rlen = blen;
    return 0;
}

static int bad_length(iogate_t *g, const char *what, size_t got, size_t expected) {
    g->broken = 1;
    return fail(g, IOGATE_ST_MALFORMED, EPROTO, "iogated's %s response has %zu body bytes; expected %zu", what, got, expected);
}

/* ---- Connection ---------------------------------------------------------------------------- */

static int connect_socket(iogate_t *g, const char *path) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0) return fail(g, IOGATE_ST_UNREACHABLE, EINVAL, "the socket path is empty");
    if (n >= sizeof sa.sun_path)
        return fail(g, IOGATE_ST_UNREACHABLE, ENAMETOOLONG, "socket path '%s' is %zu bytes; at most %zu fit a Unix socket address",
                    path, n, sizeof sa.sun_path - 1);
    memcpy(sa.sun_path, path, n);
    g->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char t[128];
    if (g->fd < 0) {
        int e = errno;
        return fail(g, IOGATE_ST_SYSTEM, e, "socket(AF_UNIX) failed: %s", errno_text(e, t, sizeof t));
    }
    if (connect(g->fd, (struct sockaddr *)&sa, sizeof sa) == 0) return 0;
    int e = errno;
    if (e == EINTR || e == EINPROGRESS) {
        /* An interrupted connect completes in the background: wait for it and read its result. */
        struct pollfd p = {.fd = g->fd, .events = POLLOUT};
        int k;
        do k = poll(&p, 1, -1);
        while (k < 0 && errno == EINTR);
        socklen_t len = sizeof e;
        if (k < 0) e = errno;
        else if (getsockopt(g->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0) e = errno;
        if (e == 0) return 0;
    }
    const char *hint = e == ENOENT ? " (is iogated running? set $IOGATE_SOCKET or pass the path)"
                       : e == EACCES ? " (not allowed by the socket's mode and group: ask to be added to its group)"
                       : e == ECONNREFUSED ? " (nobody is listening: iogated is not running)"
                       : "";
    return fail(g, IOGATE_ST_UNREACHABLE, e, "cannot connect to iogated at %s: %s%s", path, errno_text(e, t, sizeof t), hint);
}

static int hello(iogate_t *g, unsigned max_version) {
    uint8_t *b = request_body(g, 8);
    if (!b) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory");
    put_le(b, HELLO_MAGIC, 4);
    put_le(b + 4, 1, 2);
    put_le(b + 6, max_version, 2);
    const uint8_t *r;
    size_t n;
    int rc = call(g, OP_HELLO, 8, &r, &n);
    if (rc) return rc;
    if (n != 16) return bad_length(g, "hello", n, 16);
    unsigned version = (unsigned)get_le(r, 2);
    if (version < 1 || version > max_version) {
        g->broken = 1;
        return fail(g, IOGATE_ST_UNSUPPORTED_VERSION, EPROTONOSUPPORT, "iogated chose protocol version %u; this client offered 1..%u",
                    version, max_version);
    }
    g->version = version;
    g->limits.max_frame = (uint32_t)get_le(r + 4, 4);
    g->limits.max_batch = (uint32_t)get_le(r + 8, 4);
    g->limits.max_block = (uint32_t)get_le(r + 12, 4);
    if (g->limits.max_frame < 24 || g->limits.max_block == 0 || g->limits.max_batch == 0) {
        g->broken = 1;
        return fail(g, IOGATE_ST_MALFORMED, EPROTO, "iogated announced impossible limits (max_frame %u, max_batch %u, max_block %u)",
                    g->limits.max_frame, g->limits.max_batch, g->limits.max_block);
    }
    return 0;
}

IOGATE_EXPORT int iogate_open_ex(const char *socket_path, unsigned max_version, iogate_t **out, char *errbuf, size_t errlen) {
    if (errbuf && errlen) errbuf[0] = '\0';
    if (!out) return -EINVAL;
    *out = NULL;
    if (max_version == 0) max_version = 3;
    if (max_version > 3) {
        if (errbuf && errlen) snprintf(errbuf, errlen, "max_version %u: this library speaks protocol versions 1 to 3", max_version);
        return -EINVAL;
    }
    if (!socket_path) {
        const char *env = getenv("IOGATE_SOCKET");
        socket_path = env && *env ? env : IOGATE_DEFAULT_SOCKET;
    }
    iogate_t *g = calloc(1, sizeof *g);
    if (!g) return -ENOMEM;
    g->fd = -1;
    g->next_id = 1;
    int rc = connect_socket(g, socket_path);
    if (rc == 0) rc = hello(g, max_version);
    if (rc) {
        if (errbuf && errlen) snprintf(errbuf, errlen, "%s", g->message);
        iogate_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

IOGATE_EXPORT int iogate_open(const char *socket_path, iogate_t **out) { return iogate_open_ex(socket_path, 3, out, NULL, 0); }

IOGATE_EXPORT void iogate_close(iogate_t *g) {
    if (!g) return;
    if (g->fd >= 0) close(g->fd);
    free(g->sbuf);
    free(g->rbuf);
    free(g);
}

/* ---- Register operations ------------------------------------------------------------------ */

#define CHECK_HANDLE(g)                 \
    do {                                \
        if (!(g)) return -EINVAL;       \
    } while (0)

/* Width as the one byte the protocol carries; a width that does not fit is refused locally. */
static int width_byte(iogate_t *g, unsigned width, uint8_t *out) {
    if (width > 255) return fail(g, IOGATE_ST_BAD_WIDTH, EINVAL, "width of %u bytes is not supported; allowed: 1, 2, 4 or 8 bytes", width);
    *out = (uint8_t)width;
    return 0;
}


/* One read request of `count` elements; *data points at count * width response bytes. */
static int read_request(iogate_t *g, uint64_t addr, uint8_t width, uint32_t count, const uint8_t **data) {
    uint8_t *b = request_body(g, 16);
    if (!b) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory");
    put_le(b, addr, 8);
    b[8] = width;
    put_le(b + 12, count, 4);
    size_t n;
    int rc = call(g, OP_READ, 16, data, &n);
    if (rc) return rc;
    if (n != (size_t)count * width) return bad_length(g, "read", n, (size_t)count * width);
    return 0;
}

IOGATE_EXPORT int iogate_read(iogate_t *g, uint64_t addr, unsigned width, uint64_t *value) {
    CHECK_HANDLE(g);
    if (!value) return fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_read: value is NULL");
    uint8_t w = 0;
    const uint8_t *data;
    int rc = width_byte(g, width, &w);
    if (rc == 0) rc = read_request(g, addr, w, 1, &data);
    if (rc) return rc;
    if (!valid_width(w)) return bad_length(g, "read", w, 0);
    *value = get_le(data, w);
    return 0;
}

/* Elements per block request: max_block, and for writes what fits max_frame. */
static size_t block_chunk(const iogate_t *g, unsigned width, int is_write) {
    size_t chunk = g->limits.max_block;
    if (is_write && width > 0) {
        size_t fit = (g->limits.max_frame - 24) / width;
        if (fit < chunk) chunk = fit ? fit : 1;
    }
    return chunk;
}

IOGATE_EXPORT int iogate_read_block(iogate_t *g, uint64_t addr, unsigned width, size_t count, void *buf) {
    CHECK_HANDLE(g);
    if (count == 0) return 0;
    if (!buf) return fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_read_block: buf is NULL");
    uint8_t w = 0;
    int rc = width_byte(g, width, &w);
    if (rc) return rc;
    size_t chunk = block_chunk(g, width, 0);
    for (size_t done = 0; done < count;) {
        size_t n = count - done < chunk ? count - done : chunk;
        const uint8_t *data;
        if ((rc = read_request(g, addr + (uint64_t)done * width, w, (uint32_t)n, &data))) return rc;
        if (!valid_width(w)) return bad_length(g, "read", n * w, 0);
        for (size_t i = 0; i < n; i++) set_host_element(buf, w, done + i, get_le(data + i * w, w));
        done += n;
    }
    return 0;
}

/* One write request of `count` elements taken from buf starting at element `first`. */
static int write_request(iogate_t *g, uint64_t addr, uint8_t width, size_t count, const void *buf, size_t first) {
    size_t len = 16 + count * width;
    uint8_t *b = request_body(g, len);
    if (!b) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory for a write of %zu bytes", len);
    put_le(b, addr, 8);
    b[8] = width;
    put_le(b + 12, count, 4);
    if (valid_width(width)) {
        for (size_t i = 0; i < count; i++) put_le(b + 16 + i * width, host_element(buf, width, first + i), width);
    } else {
        memcpy(b + 16, (const uint8_t *)buf + first * width, count * width); /* the daemon refuses the width */
    }
    const uint8_t *r;
    size_t n;
    int rc = call(g, OP_WRITE, len, &r, &n);
    if (rc) return rc;
    if (n != 0) return bad_length(g, "write", n, 0);
    return 0;
}

IOGATE_EXPORT int iogate_write(iogate_t *g, uint64_t addr, unsigned width, uint64_t value) {
    CHECK_HANDLE(g);
    uint8_t w = 0;
    int rc = width_byte(g, width, &w);
    if (rc) return rc;
    /* One element as write_request takes it: host order for the widths the protocol has; for
     * any other width (which the daemon refuses) the value's bytes little-endian, zero-padded. */
    uint8_t element[255] = {0};
    if (valid_width(w)) set_host_element(element, w, 0, value);
    else put_le(element, value, w < 8 ? w : 8);
    return write_request(g, addr, w, 1, element, 0);
}

IOGATE_EXPORT int iogate_write_block(iogate_t *g, uint64_t addr, unsigned width, size_t count, const void *buf) {
    CHECK_HANDLE(g);
    if (count == 0) return 0;
    if (!buf) return fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_write_block: buf is NULL");
    uint8_t w = 0;
    int rc = width_byte(g, width, &w);
    if (rc) return rc;
    size_t chunk = block_chunk(g, width, 1);
    for (size_t done = 0; done < count;) {
        size_t n = count - done < chunk ? count - done : chunk;
        if ((rc = write_request(g, addr + (uint64_t)done * width, w, n, buf, done))) return rc;
        done += n;
    }
    return 0;
}

/* modify and wait: 32-byte requests answered by one u64. */
static int u64_request(iogate_t *g, uint8_t opcode, uint64_t addr, unsigned width, uint32_t timeout_ms, uint64_t mask,
                       uint64_t value, uint64_t *result) {
    CHECK_HANDLE(g);
    uint8_t w = 0;
    int rc = width_byte(g, width, &w);
    if (rc) return rc;
    uint8_t *b = request_body(g, 32);
    if (!b) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory");
    put_le(b, addr, 8);
    b[8] = w;
    if (opcode == OP_WAIT) put_le(b + 12, timeout_ms, 4);
    put_le(b + 16, mask, 8);
    put_le(b + 24, value, 8);
    const uint8_t *r;
    size_t n;
    if ((rc = call(g, opcode, 32, &r, &n))) return rc;
    if (n != 8) return bad_length(g, opcode == OP_WAIT ? "wait" : "modify", n, 8);
    if (result) *result = get_le(r, 8);
    return 0;
}

IOGATE_EXPORT int iogate_modify(iogate_t *g, uint64_t addr, unsigned width, uint64_t mask, uint64_t value, uint64_t *old) {
    return u64_request(g, OP_MODIFY, addr, width, 0, mask, value, old);
}

IOGATE_EXPORT int iogate_wait(iogate_t *g, uint64_t addr, unsigned width, uint64_t mask, uint64_t value, uint32_t timeout_ms,
                              uint64_t *seen) {
    return u64_request(g, OP_WAIT, addr, width, timeout_ms, mask, value, seen);
}

/* ---- Windows -------------------------------------------------------------------------------- */

static int malformed_windows(iogate_t *g, void *ws, size_t entry) {
    free(ws);
    g->broken = 1;
    return fail(g, IOGATE_ST_MALFORMED, EPROTO, "iogated's windows response ends inside entry #%zu", entry);
}

/* One windows entry (5.2) at *pos of the n-byte body r; 0, or -1 when it is cut short. */
static int window_entry(const uint8_t *r, size_t n, size_t *pos, struct iogate_window *w) {
    size_t p = *pos;
    if (n - p < 18) return -1;
    w->base = get_le(r + p, 8);
    w->length = get_le(r + p + 8, 8);
    w->writable = r[p + 16] == 1;
    size_t name_len = r[p + 17];
    p += 18;
    if (n - p < name_len + 1) return -1;
    memcpy(w->name, r + p, name_len);
    w->name[name_len] = '\0';
    p += name_len;
    size_t model_len = r[p++];
    if (n - p < model_len + 2) return -1;
    memcpy(w->model, r + p, model_len);
    w->model[model_len] = '\0';
    p += model_len;
    w->pins = (uint16_t)get_le(r + p, 2);
    *pos = p + 2;
    return 0;
}

IOGATE_EXPORT int iogate_windows(iogate_t *g, struct iogate_window **out, size_t *count) {
    CHECK_HANDLE(g);
    if (!out || !count) return fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_windows: out and count must not be NULL");
    *out = NULL;
    *count = 0;
    if (!request_body(g, 0)) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory");
    const uint8_t *r;
    size_t n;
    int rc = call(g, OP_WINDOWS, 0, &r, &n);
    if (rc) return rc;
    if (n < 4) return bad_length(g, "windows", n, 4);
    uint32_t c = (uint32_t)get_le(r, 4);
    if ((size_t)c > (n - 4) / 21) return malformed_windows(g, NULL, 0);
    struct iogate_window *ws = c ? calloc(c, sizeof *ws) : NULL;
    if (c && !ws) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory for %u windows", c);
    size_t pos = 4;
    for (uint32_t i = 0; i < c; i++)
        if (window_entry(r, n, &pos, &ws[i])) return malformed_windows(g, ws, i);
    if (pos != n) {
        free(ws);
        g->broken = 1;
        return fail(g, IOGATE_ST_MALFORMED, EPROTO, "iogated's windows response has %zu bytes after its %u entries", n - pos, c);
    }
    *out = ws;
    *count = c;
    return 0;
}

IOGATE_EXPORT void iogate_windows_free(struct iogate_window *windows) { free(windows); }

IOGATE_EXPORT int iogate_grants(iogate_t *g, struct iogate_grant **out, size_t *count) {
    CHECK_HANDLE(g);
    if (!out || !count) return fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_grants: out and count must not be NULL");
    *out = NULL;
    *count = 0;
    if (g->version < 3)
        return fail(g, IOGATE_ST_UNKNOWN_OPERATION, EOPNOTSUPP,
                    "the grants list (opcode 0x03) needs protocol version 3; this connection speaks version %u", g->version);
    if (!request_body(g, 0)) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory");
    const uint8_t *r;
    size_t n;
    int rc = call(g, OP_GRANTS, 0, &r, &n);
    if (rc) return rc;
    if (n < 4) return bad_length(g, "grants", n, 4);
    uint32_t c = (uint32_t)get_le(r, 4);
    if ((size_t)c > (n - 4) / 22) return malformed_windows(g, NULL, 0);
    if (c == 0) {
        if (n != 4) return bad_length(g, "grants", n, 4);
        return 0;
    }
    /* One allocation: the entries, then every pin (fewer than n / 2 of them). */
    size_t head = (size_t)c * sizeof(struct iogate_grant);
    struct iogate_grant *gs = calloc(1, head + n);
    if (!gs) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory for %u grants", c);
    uint16_t *pins = (uint16_t *)(void *)((uint8_t *)gs + head);
    size_t pos = 4;
    for (uint32_t i = 0; i < c; i++) {
        struct iogate_grant *e = &gs[i];
        if (window_entry(r, n, &pos, &e->window) || n - pos < 1) return malformed_windows(g, gs, i);
        uint8_t scope = r[pos++];
        if (scope == IOGATE_GRANT_WHOLE) {
            e->scope = IOGATE_GRANT_WHOLE;
        } else if (scope == IOGATE_GRANT_PINS) {
            if (n - pos < 2) return malformed_windows(g, gs, i);
            size_t k = (size_t)get_le(r + pos, 2);
            pos += 2;
            if ((n - pos) / 2 < k) return malformed_windows(g, gs, i);
            e->scope = IOGATE_GRANT_PINS;
            e->pin_count = k;
            e->pins = k ? pins : NULL;
            for (size_t j = 0; j < k; j++) pins[j] = (uint16_t)get_le(r + pos + 2 * j, 2);
            pins += k;
            pos += 2 * k;
        } else if (scope == IOGATE_GRANT_BITS) {
            if (n - pos < 4) return malformed_windows(g, gs, i);
            e->scope = IOGATE_GRANT_BITS;
            e->bits = (uint32_t)get_le(r + pos, 4);
            pos += 4;
        } else {
            free(gs);
            g->broken = 1;
            return fail(g, IOGATE_ST_MALFORMED, EPROTO, "iogated's grants entry #%u has scope %u; this library knows 0, 1 and 2", i, scope);
        }
    }
    if (pos != n) {
        free(gs);
        g->broken = 1;
        return fail(g, IOGATE_ST_MALFORMED, EPROTO, "iogated's grants response has %zu bytes after its %u entries", n - pos, c);
    }
    *out = gs;
    *count = c;
    return 0;
}

IOGATE_EXPORT void iogate_grants_free(struct iogate_grant *grants) { free(grants); }

/* ---- Addresses -------------------------------------------------------------------------- */

/* Parses 0x hex, 0b binary, 0o octal or decimal with optional '_' separators; 0 on success. */
static int parse_u64(const char *s, size_t len, uint64_t *out) {
    unsigned base = 10;
    if (len >= 2 && s[0] == '0') {
        char c = s[1];
        if (c == 'x' || c == 'X') base = 16;
        else if (c == 'b' || c == 'B') base = 2;
        else if (c == 'o' || c == 'O') base = 8;
        if (base != 10) {
            s += 2;
            len -= 2;
        }
    }
    uint64_t v = 0;
    int digits = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '_') continue;
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return -1;
        if (d >= base || v > (UINT64_MAX - d) / base) return -1;
        v = v * base + d;
        digits++;
    }
    if (!digits) return -1;
    *out = v;
    return 0;
}

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_name_char(char c) { return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

IOGATE_EXPORT int iogate_resolve(iogate_t *g, const char *expr, uint64_t *addr) {
    CHECK_HANDLE(g);
    if (!expr || !addr) return fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_resolve: expr and addr must not be NULL");
    const char *s = expr;
    size_t len = strlen(s);
    while (len && *s == ' ') s++, len--;
    while (len && s[len - 1] == ' ') len--;
    if (len && parse_u64(s, len, addr) == 0) return 0;
    size_t name_len = 0;
    while (name_len < len && is_name_char(s[name_len])) name_len++;
    if (name_len == 0 || !is_alpha(s[0]) || (name_len < len && s[name_len] != '+') || name_len > 255)
        return fail(g, IOGATE_ST_MALFORMED, EINVAL, "address '%s' is not a number (0xFE20001C) or WINDOW+OFFSET (gpio+0x1c)", expr);
    uint64_t offset = 0;
    if (name_len < len && parse_u64(s + name_len + 1, len - name_len - 1, &offset) != 0)
        return fail(g, IOGATE_ST_MALFORMED, EINVAL, "offset '%.*s' in '%s' is not a number; expected e.g. gpio+0x1c",
                    (int)(len - name_len - 1), s + name_len + 1, expr);
    struct iogate_window *ws;
    size_t n;
    int rc = iogate_windows(g, &ws, &n);
    if (rc) return rc;
    const struct iogate_window *found = NULL;
    for (size_t i = 0; i < n && !found; i++)
        if (strlen(ws[i].name) == name_len && memcmp(ws[i].name, s, name_len) == 0) found = &ws[i];
    if (!found) {
        char names[1024] = "";
        size_t used = 0;
        for (size_t i = 0; i < n; i++) {
            if (!ws[i].name[0] || used >= sizeof names - 1) continue;
            int k = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", ws[i].name);
            if (k > 0) used += (size_t)k;
        }
        iogate_windows_free(ws);
        return fail(g, IOGATE_ST_NOT_FOUND, ENOENT, "no window named '%.*s' is granted to you; your windows: %s", (int)name_len, s,
                    used ? names : "none with names");
    }
    if (offset >= found->length) {
        rc = fail(g, IOGATE_ST_OUTSIDE_ALLOWLIST, EACCES, "offset 0x%llX is past the end of window '%s' (length 0x%llX)",
                  (unsigned long long)offset, found->name, (unsigned long long)found->length);
        iogate_windows_free(ws);
        return rc;
    }
    *addr = found->base + offset;
    iogate_windows_free(ws);
    return 0;
}

/* ---- Batches ------------------------------------------------------------------------------ */

IOGATE_EXPORT int iogate_batch_new(iogate_batch_t **out) {
    if (!out) return -EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

IOGATE_EXPORT void iogate_batch_free(iogate_batch_t *b) {
    if (!b) return;
    free(b->ops);
    free(b);
}

IOGATE_EXPORT void iogate_batch_clear(iogate_batch_t *b) {
    if (b) b->count = 0;
}

IOGATE_EXPORT size_t iogate_batch_count(const iogate_batch_t *b) { return b ? b->count : 0; }

static int batch_add(iogate_batch_t *b, uint8_t kind, uint64_t addr, unsigned width, uint64_t mask, uint64_t value) {
    if (!b || width > 255) return -EINVAL;
    if (b->count >= (size_t)INT_MAX) return -E2BIG;
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct batch_op *ops = realloc(b->ops, cap * sizeof *ops);
        if (!ops) return -ENOMEM;
        b->ops = ops;
        b->cap = cap;
    }
    b->ops[b->count] = (struct batch_op){.kind = kind, .width = (uint8_t)width, .addr = addr, .mask = mask, .value = value};
    return (int)b->count++;
}

IOGATE_EXPORT int iogate_batch_read(iogate_batch_t *b, uint64_t addr, unsigned width) { return batch_add(b, KIND_READ, addr, width, 0, 0); }

IOGATE_EXPORT int iogate_batch_write(iogate_batch_t *b, uint64_t addr, unsigned width, uint64_t value) {
    return batch_add(b, KIND_WRITE, addr, width, 0, value);
}

IOGATE_EXPORT int iogate_batch_modify(iogate_batch_t *b, uint64_t addr, unsigned width, uint64_t mask, uint64_t value) {
    return batch_add(b, KIND_MODIFY, addr, width, mask, value);
}

static int run_plain(iogate_t *g, const iogate_batch_t *b, uint64_t *results) {
    size_t len = 8 + 32 * b->count;
    uint8_t *p = request_body(g, len);
    if (!p) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory for a batch of %zu operations", b->count);
    put_le(p, b->count, 4);
    for (size_t i = 0; i < b->count; i++) {
        uint8_t *o = p + 8 + 32 * i;
        const struct batch_op *op = &b->ops[i];
        o[0] = op->kind;
        o[1] = op->width;
        put_le(o + 8, op->addr, 8);
        put_le(o + 16, op->mask, 8);
        put_le(o + 24, op->value, 8);
    }
    const uint8_t *r;
    size_t n;
    int rc = call(g, OP_BATCH, len, &r, &n);
    if (rc) return rc;
    if (n != 8 + 8 * b->count || get_le(r, 4) != b->count) return bad_length(g, "batch", n, 8 + 8 * b->count);
    if (results)
        for (size_t i = 0; i < b->count; i++) results[i] = get_le(r + 8 + 8 * i, 8);
    return 0;
}

static int run_compact(iogate_t *g, const iogate_batch_t *b, uint64_t base, uint64_t *results) {
    size_t len = 16, expect = 8;
    for (size_t i = 0; i < b->count; i++) {
        len += 8u * b->ops[i].kind;
        if (b->ops[i].kind != KIND_WRITE) expect += b->ops[i].width;
    }
    uint8_t *p = request_body(g, len);
    if (!p) return fail(g, IOGATE_ST_SYSTEM, ENOMEM, "out of memory for a batch of %zu operations", b->count);
    put_le(p, b->count, 4);
    put_le(p + 8, base, 8);
    uint8_t *o = p + 16;
    for (size_t i = 0; i < b->count; i++) {
        const struct batch_op *op = &b->ops[i];
        o[0] = op->kind;
        o[1] = op->width;
        put_le(o + 4, op->addr - base, 4);
        if (op->kind == KIND_WRITE) put_le(o + 8, op->value, 8);
        if (op->kind == KIND_MODIFY) {
            put_le(o + 8, op->mask, 8);
            put_le(o + 16, op->value, 8);
        }
        o += 8u * op->kind;
    }
    const uint8_t *r;
    size_t n;
    int rc = call(g, OP_COMPACT_BATCH, len, &r, &n);
    if (rc) return rc;
    if (n != expect || get_le(r, 4) != b->count) return bad_length(g, "compact batch", n, expect);
    size_t pos = 8;
    for (size_t i = 0; i < b->count; i++) {
        const struct batch_op *op = &b->ops[i];
        uint64_t v = 0;
        if (op->kind != KIND_WRITE) {
            if (!valid_width(op->width)) return bad_length(g, "compact batch", n, expect);
            v = get_le(r + pos, op->width);
            pos += op->width;
        }
        if (results) results[i] = v;
    }
    return 0;
}

IOGATE_EXPORT int iogate_batch_run(iogate_t *g, const iogate_batch_t *b, uint64_t *results) {
    CHECK_HANDLE(g);
    if (!b) return fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_batch_run: batch is NULL");
    if (b->count == 0) return 0;
    if (b->count > g->limits.max_batch)
        return fail(g, IOGATE_ST_LIMIT_EXCEEDED, E2BIG, "batch of %zu operations; the daemon allows 1...%u", b->count,
                    g->limits.max_batch);
    if (g->version >= 2) {
        uint64_t base = UINT64_MAX;
        int fits = 1;
        for (size_t i = 0; i < b->count; i++)
            if (b->ops[i].addr < base) base = b->ops[i].addr;
        base &= ~(uint64_t)0xFFF; /* a page boundary: usually the window's base, as in PROTOCOL.md 9.8 */
        for (size_t i = 0; i < b->count && fits; i++) fits = b->ops[i].addr - base <= UINT32_MAX;
        if (fits) return run_compact(g, b, base, results);
    }
    return run_plain(g, b, results);
}
