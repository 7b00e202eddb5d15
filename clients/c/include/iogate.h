/*
 * iogate.h - C client library for IOGate's iogated (docs/PROTOCOL.md, versions 1 to 3).
 *
 * Every function that can fail returns 0 (or, for the batch builders, a non-negative index) on
 * success and a negative errno value on failure:
 *
 *   -EACCES          the daemon refused the access (outside-allowlist 5, read-only 6)
 *   -EBUSY           a GPIO line is claimed by the kernel or another program (line-busy 17)
 *   -EINVAL          bad argument: misaligned (7), bad width or mask/value too wide (8), or a
 *                    local argument error (NULL pointer, unparsable address, unknown mode...)
 *   -ETIMEDOUT       iogate_wait did not see the value in time (timeout 9)
 *   -E2BIG           a count, batch or wait timeout over the daemon's limits (limit-exceeded 4)
 *   -EIO             a bus fault (18) or a status this library does not know
 *   -EPROTO          the peer broke the protocol (malformed 1, bad-state 15, a response that
 *                    does not match its request)
 *   -EPROTONOSUPPORT no protocol version in common (unsupported-version 2)
 *   -EOPNOTSUPP      the daemon does not know the operation (unknown-operation 3), or the GPIO
 *                    model cannot do it (no readable pull register)
 *   -ENOENT          the socket does not exist; a window or pin name that is not granted
 *   -ECONNREFUSED    nobody listens on the socket
 *   -ECONNRESET      the daemon closed the connection (the handle is then unusable: -ENOTCONN)
 *   -ENOMEM          out of memory
 *   other            what connect/send/recv reported (-EACCES on the socket's permissions...)
 *
 * After a failure iogate_status(g) is the daemon's status code (section 7 of PROTOCOL.md) when
 * the daemon refused, or a code of the same space for a local failure (IOGATE_ST_NOT_FOUND,
 * IOGATE_ST_UNREACHABLE, IOGATE_ST_SYSTEM, ...), and iogate_errmsg(g) is the daemon's message
 * or a local one (on a version 3 connection only the message, without the typed details that
 * follow it on the wire: see iogate_error_details). All three keep the last failure until the next
 * failure; a success does not clear them.
 *
 * Thread safety: a handle (iogate_t) and a batch (iogate_batch_t) must be used by one thread at
 * a time. Open one handle per thread: connections are cheap and the daemon serves each one in
 * order. Different handles may be used concurrently. The library never raises SIGPIPE (it sends
 * with MSG_NOSIGNAL), retries system calls interrupted by signals (EINTR), and handles short
 * reads and writes.
 *
 * Register values are passed as uint64_t; only the low `width` bytes are used. Widths are in
 * BYTES: 1, 2, 4 or 8 (8, 16, 32, 64 bits). Widths are not checked here: the daemon checks
 * them, so a bad width is the daemon's refusal (status 8).
 */
#ifndef IOGATE_H
#define IOGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOGATE_VERSION_MAJOR 0
#define IOGATE_VERSION_MINOR 1
#define IOGATE_VERSION_PATCH 0

/* The socket used when iogate_open gets NULL and $IOGATE_SOCKET is unset or empty. */
#define IOGATE_DEFAULT_SOCKET "/run/iogate/iogate.sock"

/* Status codes (PROTOCOL.md section 7). */
enum iogate_status_code {
    IOGATE_ST_OK = 0,
    IOGATE_ST_MALFORMED = 1,
    IOGATE_ST_UNSUPPORTED_VERSION = 2,
    IOGATE_ST_UNKNOWN_OPERATION = 3,
    IOGATE_ST_LIMIT_EXCEEDED = 4,
    IOGATE_ST_OUTSIDE_ALLOWLIST = 5,
    IOGATE_ST_READ_ONLY = 6,
    IOGATE_ST_MISALIGNED = 7,
    IOGATE_ST_BAD_WIDTH = 8,
    IOGATE_ST_TIMEOUT = 9,
    IOGATE_ST_CONFIG = 10,
    IOGATE_ST_BOARD = 11,
    IOGATE_ST_MAPPING = 12,
    IOGATE_ST_SYSTEM = 13,
    IOGATE_ST_NOT_FOUND = 14,
    IOGATE_ST_BAD_STATE = 15,
    IOGATE_ST_UNREACHABLE = 16,
    IOGATE_ST_LINE_BUSY = 17,
    IOGATE_ST_BUS_FAULT = 18
};

typedef struct iogate iogate_t;
typedef struct iogate_batch iogate_batch_t;

/* ---- Connection ------------------------------------------------------------------------- */

/*
 * Connects to the daemon and performs the hello handshake, offering protocol versions 1..3
 * (version 2 adds compact batches, version 3 typed error details and the grants list; an older
 * daemon answers with its highest version and everything else still works).
 * socket_path NULL means $IOGATE_SOCKET, then IOGATE_DEFAULT_SOCKET. On success *out is a new
 * handle (free it with iogate_close). On failure *out is NULL and the return value says why; a
 * refused handshake's message is not available then (there is no handle), so use
 * iogate_open_ex with an error buffer to see it.
 */
int iogate_open(const char *socket_path, iogate_t **out);

/*
 * Like iogate_open, offering versions 1..max_version (1, 2 or 3; 0 means 3; 4 and above are
 * refused locally with -EINVAL). If errbuf is not NULL
 * a failure's message is copied there (NUL-terminated, cut to errlen bytes).
 */
int iogate_open_ex(const char *socket_path, unsigned max_version, iogate_t **out, char *errbuf, size_t errlen);

/* Closes the connection and frees the handle. NULL is ignored. */
void iogate_close(iogate_t *g);

/* The protocol version the daemon chose (1, 2 or 3). */
unsigned iogate_protocol_version(const iogate_t *g);

/* The limits the daemon announced in its hello response. */
struct iogate_limits {
    uint32_t max_frame; /* largest request length (bytes after the length prefix) */
    uint32_t max_batch; /* most operations in one batch */
    uint32_t max_block; /* most elements in one block read or write request */
};
void iogate_get_limits(const iogate_t *g, struct iogate_limits *limits);

/* The last failure: the daemon's status code (or a local one, see above) and its message. */
int iogate_status(const iogate_t *g);
const char *iogate_errmsg(const iogate_t *g);

/*
 * The typed facts of the last failure (PROTOCOL.md section 7.1), sent by the daemon after the
 * message on a version 3 connection. A field is valid only when its has_* flag is 1; all flags
 * are 0 after a local failure, on a version 1 or 2 connection, or when the daemon sent no such
 * record. Records with a tag this library does not know are skipped.
 */
#define IOGATE_MAX_GRANTED 16
struct iogate_granted_range {
    uint64_t base;   /* physical address of the first byte */
    uint64_t length; /* bytes */
    int writable;    /* 1 = rw, 0 = ro */
};
struct iogate_error_details {
    int has_address;
    uint64_t address;   /* the refused or failed access's physical address */
    int has_size;
    uint64_t size;      /* the access's size in bytes (all elements of a block) */
    size_t granted_count; /* granted ranges the daemon listed (outside-allowlist: all; read-only: the ro one) */
    struct iogate_granted_range granted[IOGATE_MAX_GRANTED]; /* the first min(granted_count, 16) */
    int has_pin;
    uint32_t pin;       /* the GPIO line a line-busy refusal concerns */
    int has_consumer;
    char consumer[256]; /* who holds that line (NUL-terminated) */
    int has_sys_errno;
    int32_t sys_errno;  /* errno of a failed system call in the daemon */
    int has_call;
    char call[256];     /* that call and its argument (NUL-terminated) */
    int has_operation;
    uint32_t operation; /* index of the batch operation the error concerns */
};

/* Copies the last failure's details into *out. Returns 0, or -EINVAL for a NULL argument. */
int iogate_error_details(const iogate_t *g, struct iogate_error_details *out);

/* The name of a status code as PROTOCOL.md writes it ("outside-allowlist"), or "unknown". */
const char *iogate_status_name(int status);

/* The opcode of the last request this handle sent (0x10 read, 0x20 batch, 0x21 compact batch...). */
unsigned iogate_last_opcode(const iogate_t *g);

/* ---- Register operations ---------------------------------------------------------------- */

/* Reads one register of `width` bytes at the physical address `addr` into *value (zero-extended). */
int iogate_read(iogate_t *g, uint64_t addr, unsigned width, uint64_t *value);

/* Writes the low `width` bytes of `value` to the register at `addr`. */
int iogate_write(iogate_t *g, uint64_t addr, unsigned width, uint64_t value);

/*
 * Atomic read-modify-write in the daemon, under the window's lock: the bits of `mask` become
 * those of `value`. *old (if old is not NULL) receives the register's previous value.
 */
int iogate_modify(iogate_t *g, uint64_t addr, unsigned width, uint64_t mask, uint64_t value, uint64_t *old);

/*
 * Waits in the daemon until (register & mask) == value, for at most timeout_ms (0: one poll;
 * the daemon's ceiling is max_wait_ms, 10000 by default). *seen (if not NULL) receives the
 * value that satisfied it. A timeout returns -ETIMEDOUT with status IOGATE_ST_TIMEOUT and a
 * message ending with the last value read.
 */
int iogate_wait(iogate_t *g, uint64_t addr, unsigned width, uint64_t mask, uint64_t value, uint32_t timeout_ms,
                uint64_t *seen);

/*
 * Block read/write of `count` consecutive registers of `width` bytes from `addr`. `buf` holds
 * count elements of `width` bytes each, in host byte order (an array of uint8_t, uint16_t,
 * uint32_t or uint64_t). A count over the daemon's max_block (or one that would exceed
 * max_frame) is sent as several requests in ascending order, each atomic on its own; the first
 * refusal stops the rest (earlier requests have then been carried out). count 0 does nothing.
 */
int iogate_read_block(iogate_t *g, uint64_t addr, unsigned width, size_t count, void *buf);
int iogate_write_block(iogate_t *g, uint64_t addr, unsigned width, size_t count, const void *buf);

/* ---- Windows (the caller's allowlist) --------------------------------------------------- */

struct iogate_window {
    uint64_t base;   /* physical address of the first byte */
    uint64_t length; /* bytes */
    int writable;    /* 1 = granted rw, 0 = ro */
    char name[256];  /* the board window's name ("gpio"), or "" for a raw IoBase/IoLen range */
    char model[256]; /* GPIO register model ("bcm2711", "rp1", ...), or "" */
    uint16_t pins;   /* GPIO lines of the block, 0 when model is "" */
};

/* The windows granted to the caller. *out is a malloc'ed array of *count entries (NULL when
 * there are none); free it with iogate_windows_free. */
int iogate_windows(iogate_t *g, struct iogate_window **out, size_t *count);
void iogate_windows_free(struct iogate_window *windows);

/* What of a windows entry is granted (PROTOCOL.md 5.9). */
enum iogate_grant_scope {
    IOGATE_GRANT_WHOLE = 0, /* the whole range */
    IOGATE_GRANT_PINS = 1,  /* only the GPIO pins listed */
    IOGATE_GRANT_BITS = 2   /* only the bits of `bits` in every 32-bit register */
};

struct iogate_grant {
    struct iogate_window window;
    enum iogate_grant_scope scope;
    uint32_t bits;           /* IOGATE_GRANT_BITS: the mask; else 0 */
    size_t pin_count;        /* IOGATE_GRANT_PINS: how many pins; else 0 */
    const uint16_t *pins;    /* the pins, ascending, numbered as iogate_gpio_pin numbers them; NULL if none */
};

/*
 * The grants list (version 3 connections only): the windows with what of each is granted. *out
 * is a malloc'ed array of *count entries (NULL when there are none), pins included; free it with
 * iogate_grants_free. On a version 1 or 2 connection: -EOPNOTSUPP (IOGATE_ST_UNKNOWN_OPERATION),
 * nothing sent.
 */
int iogate_grants(iogate_t *g, struct iogate_grant **out, size_t *count);
void iogate_grants_free(struct iogate_grant *grants);

/*
 * Resolves an address as the CLI writes it: a number (0xFE20001C, 0b..., 0o..., decimal, '_'
 * separators allowed) or WINDOW+OFFSET ("gpio+0x34", or "gpio" for its base), looking the window
 * up in the caller's windows. An unknown window is -ENOENT (IOGATE_ST_NOT_FOUND); an offset past
 * the window's end -EACCES (IOGATE_ST_OUTSIDE_ALLOWLIST); unparsable text -EINVAL.
 */
int iogate_resolve(iogate_t *g, const char *expr, uint64_t *addr);

/* ---- Batches ---------------------------------------------------------------------------- */

/*
 * A batch is a list of reads, writes and modifies that the daemon checks whole before running
 * any of it and then runs under the locks of every window it touches: one refused operation
 * means nothing runs. On a version 2 or 3 connection it goes as ONE compact batch (opcode 0x21) when
 * every address lies within 4 GiB above the 4 KiB page of the lowest one, otherwise (and on
 * version 1) as one plain batch (0x20). The add functions return the operation's index (>= 0) or a negative errno.
 * A batch is not tied to a handle: build it once, run it many times.
 */
int iogate_batch_new(iogate_batch_t **out);
void iogate_batch_free(iogate_batch_t *b);
void iogate_batch_clear(iogate_batch_t *b);
size_t iogate_batch_count(const iogate_batch_t *b);
int iogate_batch_read(iogate_batch_t *b, uint64_t addr, unsigned width);
int iogate_batch_write(iogate_batch_t *b, uint64_t addr, unsigned width, uint64_t value);
int iogate_batch_modify(iogate_batch_t *b, uint64_t addr, unsigned width, uint64_t mask, uint64_t value);

/*
 * Runs the batch. results (if not NULL) must hold iogate_batch_count(b) values: result i is the
 * value read (read), 0 (write) or the old value (modify). A batch of more than max_batch
 * operations is refused locally with -E2BIG (IOGATE_ST_LIMIT_EXCEEDED) and nothing is sent; an
 * empty batch returns 0 without sending anything. A refusal names the operation in the message.
 */
int iogate_batch_run(iogate_t *g, const iogate_batch_t *b, uint64_t *results);

/* ---- GPIO pins ---------------------------------------------------------------------------- */

/*
 * Pins of the granted GPIO windows whose register model this library knows: bcm2835 (Pi 1-3),
 * bcm2711 (Pi 4), rp1 (Pi 5; grant its gpio, rio and pads windows) and omap (AM335x). Register
 * layouts follow the Linux drivers pinctrl-bcm2835.c, pinctrl-rp1.c and gpio-omap.c.
 */
enum iogate_gpio_model {
    IOGATE_GPIO_BCM2835 = 1,
    IOGATE_GPIO_BCM2711 = 2,
    IOGATE_GPIO_RP1 = 3,
    IOGATE_GPIO_OMAP = 4
};

enum iogate_gpio_mode {
    IOGATE_MODE_IN = 0,
    IOGATE_MODE_OUT = 1,
    IOGATE_MODE_ALT0 = 2, /* ALTn is IOGATE_MODE_ALT0 + n: alt0..alt5 (bcm), a0..a8 except a5 (rp1) */
    IOGATE_MODE_ALT8 = 10,
    IOGATE_MODE_NONE = 11 /* no function (rp1 FUNCSEL 0x1f, its reset state) */
};

enum iogate_gpio_pull {
    IOGATE_PULL_NONE = 0,
    IOGATE_PULL_UP = 1,
    IOGATE_PULL_DOWN = 2
};

struct iogate_pin {
    uint64_t base;                /* physical base of the pin's GPIO window */
    enum iogate_gpio_model model; /* its register model */
    unsigned line;                /* the pin's number inside that window */
    unsigned number;              /* the pin's number across all granted GPIO windows */
    char window[256];             /* the window's name */
};

/*
 * Finds pin `number`, counted across the granted GPIO windows of known models in the order the
 * daemon lists them (as the iogate CLI counts: on a Pi, the BCM/RP1 GPIO number). -ENOENT
 * (IOGATE_ST_NOT_FOUND) when no such pin is granted. The result stays valid for the handle's
 * connection (and for any other connection to the same daemon).
 */
int iogate_gpio_pin(iogate_t *g, unsigned number, struct iogate_pin *pin);

/* Line `line` of the GPIO window named `window` (the CLI's "gpio1:17"). -ENOENT when that window is
 * not a granted GPIO window of a known model or has no such line. */
int iogate_gpio_pin_in(iogate_t *g, const char *window, unsigned line, struct iogate_pin *pin);

/* Selects the pin's function (bcm: one atomic modify of GPFSELn; rp1: RIO OE, pad and CTRL in
 * one batch, as pinctrl-rp1.c does it; omap: the OE bit, in and out only). -EINVAL for a mode
 * the model does not have. */
int iogate_gpio_set_mode(iogate_t *g, const struct iogate_pin *pin, enum iogate_gpio_mode mode);
int iogate_gpio_get_mode(iogate_t *g, const struct iogate_pin *pin, enum iogate_gpio_mode *mode);

/* Drives the pin high (level != 0) or low through the set/clear registers (GPSETn/GPCLRn, RIO
 * OUT's set/clear aliases, SETDATAOUT/CLEARDATAOUT), which touch no other pin. */
int iogate_gpio_set(iogate_t *g, const struct iogate_pin *pin, int level);
/* The level the pin reads (GPLEVn, RIO IN, DATAIN): *level is 0 or 1. */
int iogate_gpio_get(iogate_t *g, const struct iogate_pin *pin, int *level);

/* Selects the pull (bcm2711 and rp1: one modify of the pin's pull field; bcm2835: the
 * GPPUD/GPPUDCLKn sequence, several requests). -EOPNOTSUPP on omap. */
int iogate_gpio_set_pull(iogate_t *g, const struct iogate_pin *pin, enum iogate_gpio_pull pull);
/* The pull, where it can be read back (bcm2711, rp1); -EOPNOTSUPP on bcm2835 and omap. */
int iogate_gpio_get_pull(iogate_t *g, const struct iogate_pin *pin, enum iogate_gpio_pull *pull);

/* "in", "out", "alt0".."alt8", "none" <-> mode; "none", "up", "down" <-> pull. The parsers return
 * 0 or -EINVAL. */
const char *iogate_gpio_mode_name(enum iogate_gpio_mode mode);
int iogate_gpio_parse_mode(const char *text, enum iogate_gpio_mode *mode);
const char *iogate_gpio_pull_name(enum iogate_gpio_pull pull);
int iogate_gpio_parse_pull(const char *text, enum iogate_gpio_pull *pull);

#ifdef __cplusplus
}
#endif

#endif /* IOGATE_H */
