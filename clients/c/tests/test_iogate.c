/*
 * Tests of libiogate against a real iogated on a mock Raspberry Pi (started by tests/run.sh).
 *
 *   test_iogate BOARD SOCKET MAX_BLOCK MAX_BATCH
 *
 * BOARD is rpi3 (bcm2835), rpi4 (bcm2711), rpi5 (rp1) or beaglebone-black (omap), or rpi4-pins: a mock
 * Pi 4 whose daemon grants only GPIO 17 and 27 (rw) and bits 0xFF of 0xFE204000..+0x100 (ro), where
 * only the grants list (PROTOCOL.md 5.9) and a pin refusal are checked. The daemon must
 * grant the caller its GPIO windows (rpi5: gpio, rio, pads; BeagleBone: gpio0-3) and spi0 read-write, uart0 read-only, and nothing else
 * (i2c1 stays outside), with [limits] max_block and max_batch as given. Every register change is
 * checked by reading the registers back; every refusal by its errno, the daemon's status code and
 * a message. Prints FAIL lines and a summary; exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <iogate.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int passed, failed;
static iogate_t *g; /* the handle the macros report on */

#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (cond) {                                                   \
            passed++;                                                 \
        } else {                                                      \
            failed++;                                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);               \
            printf(__VA_ARGS__);                                      \
            printf("\n");                                             \
        }                                                             \
    } while (0)

/* A call that must succeed. */
#define OK(call)                                                                                                    \
    do {                                                                                                            \
        int rc_ = (call);                                                                                           \
        CHECK(rc_ == 0, "%s -> %d (%s), status %d (%s): %s", #call, rc_, strerror(-rc_), iogate_status(g),          \
              iogate_status_name(iogate_status(g)), iogate_errmsg(g));                                              \
    } while (0)

/* A call the daemon (or the library) must refuse with -err and status st, with a message containing `word`. */
#define REFUSED(call, err, st, word)                                                                                \
    do {                                                                                                            \
        int rc_ = (call);                                                                                           \
        CHECK(rc_ == -(err) && iogate_status(g) == (st) && iogate_errmsg(g)[0] && strstr(iogate_errmsg(g), (word)),  \
              "%s -> %d (%s), status %d (%s), message '%s'; expected %d (%s), status %d (%s), a message with '%s'", \
              #call, rc_, strerror(-rc_), iogate_status(g), iogate_status_name(iogate_status(g)), iogate_errmsg(g), \
              -(err), strerror(err), (st), iogate_status_name(st), (word));                                         \
    } while (0)

static void section(const char *name) {
    static int last_passed, last_failed;
    static const char *current;
    if (current) printf("%-4s %-44s %d checks%s\n", failed == last_failed ? "ok" : "FAIL", current, passed - last_passed + failed - last_failed,
                        failed == last_failed ? "" : " (some failed)");
    current = name;
    last_passed = passed;
    last_failed = failed;
}

static uint64_t rd(uint64_t addr, unsigned width) {
    uint64_t v = 0xDEADBEEFDEADBEEFull;
    OK(iogate_read(g, addr, width, &v));
    return v;
}

static const struct iogate_window *find(const struct iogate_window *ws, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(ws[i].name, name) == 0) return &ws[i];
    return NULL;
}

struct board {
    const char *id;
    const char *gpio_name; /* the GPIO window checked (the BeagleBone has gpio0..gpio3) */
    const char *model;
    unsigned pins;
    uint64_t gpio, spi0, uart0, i2c1; /* window bases from boards/NAME.toml */
    uint64_t spi0_length;
    size_t windows; /* how many windows the test config grants */
};

static const struct board boards[] = {
    {"rpi3", "gpio", "bcm2835", 54, 0x3f200000, 0x3f204000, 0x3f201000, 0x3f804000, 0x200, 3},
    {"rpi4", "gpio", "bcm2711", 58, 0xfe200000, 0xfe204000, 0xfe201000, 0xfe804000, 0x200, 3},
    {"rpi5", "gpio", "rp1", 54, 0x1f000d0000, 0x1f00050000, 0x1f00030000, 0x1f00074000, 0x130, 5},
    {"beaglebone-black", "gpio1", "omap", 32, 0x4804c000, 0x48030000, 0x44e09000, 0x4802a000, 0x400, 6},
};

static void test_open(const char *socket_path) {
    section("open, handshake, limits");
    char err[512];
    iogate_t *h = (iogate_t *)1;
    int rc = iogate_open("/nonexistent/iogate.sock", &h);
    CHECK(rc == -ENOENT && h == NULL, "open of a missing socket -> %d (%s), handle %p; expected -ENOENT and NULL", rc, strerror(-rc), (void *)h);
    rc = iogate_open_ex("/nonexistent/iogate.sock", 0, &h, err, sizeof err);
    CHECK(rc == -ENOENT && strstr(err, "cannot connect to iogated at /nonexistent/iogate.sock: No such file or directory"),
          "open_ex -> %d, message '%s'", rc, err);

    /* A socket file nobody listens on (a daemon that died): ECONNREFUSED. */
    char stale[108];
    snprintf(stale, sizeof stale, "/tmp/iogate-ctest-stale-%ld.sock", (long)getpid());
    unlink(stale);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", stale);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "bind %s: %s", stale, strerror(errno));
    close(fd);
    rc = iogate_open_ex(stale, 0, &h, err, sizeof err);
    CHECK(rc == -ECONNREFUSED && h == NULL && strstr(err, "not running"), "open of a stale socket -> %d (%s): %s", rc, strerror(-rc), err);
    unlink(stale);

    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    rc = iogate_open_ex(longpath, 0, &h, err, sizeof err);
    CHECK(rc == -ENAMETOOLONG && strstr(err, "at most"), "open of a 199-byte path -> %d: %s", rc, err);
    rc = iogate_open_ex(socket_path, 4, &h, err, sizeof err);
    CHECK(rc == -EINVAL && h == NULL && strstr(err, "versions 1 to 3"), "open_ex with max_version 4 -> %d: %s", rc, err);
    for (unsigned v = 1; v <= 3; v++) {
        rc = iogate_open_ex(socket_path, v, &h, err, sizeof err);
        CHECK(rc == 0 && iogate_protocol_version(h) == v, "open_ex with max_version %u -> %d, version %u: %s", v, rc,
              h ? iogate_protocol_version(h) : 0, err);
        iogate_close(h);
    }
    rc = iogate_open(socket_path, &h);
    CHECK(rc == 0 && iogate_protocol_version(h) == 3, "iogate_open negotiates version 3 -> %d", rc);
    iogate_close(h);

    /* NULL: $IOGATE_SOCKET, then the default path. */
    setenv("IOGATE_SOCKET", socket_path, 1);
    rc = iogate_open(NULL, &h);
    CHECK(rc == 0 && h != NULL, "iogate_open(NULL) with $IOGATE_SOCKET -> %d (%s)", rc, strerror(-rc));
    if (rc == 0) {
        uint64_t v;
        CHECK(iogate_read(h, 0, 4, &v) == -EACCES, "a connection through $IOGATE_SOCKET is served");
        iogate_close(h);
    }
    unsetenv("IOGATE_SOCKET");
    if (access(IOGATE_DEFAULT_SOCKET, F_OK) != 0) {
        rc = iogate_open_ex(NULL, 0, &h, err, sizeof err);
        CHECK(rc == -ENOENT && strstr(err, IOGATE_DEFAULT_SOCKET), "iogate_open(NULL) without $IOGATE_SOCKET -> %d: %s", rc, err);
    }
    iogate_close(NULL); /* must be harmless */
}

static void test_windows(const struct board *b) {
    section("windows and WINDOW+OFFSET");
    struct iogate_window *ws = NULL;
    size_t n = 0;
    OK(iogate_windows(g, &ws, &n));
    CHECK(n == b->windows, "%zu windows; expected %zu", n, b->windows);
    const struct iogate_window *gpio = find(ws, n, b->gpio_name), *spi = find(ws, n, "spi0"), *uart = find(ws, n, "uart0");
    CHECK(gpio && gpio->base == b->gpio && gpio->writable && strcmp(gpio->model, b->model) == 0 && gpio->pins == b->pins,
          "gpio window: base 0x%llX, writable %d, model '%s', pins %u", gpio ? (unsigned long long)gpio->base : 0, gpio ? gpio->writable : -1,
          gpio ? gpio->model : "", gpio ? gpio->pins : 0);
    CHECK(spi && spi->base == b->spi0 && spi->writable && spi->model[0] == '\0' && spi->pins == 0, "spi0 window");
    CHECK(uart && uart->base == b->uart0 && !uart->writable, "uart0 window is read-only");
    CHECK(find(ws, n, "i2c1") == NULL, "i2c1 is not granted");
    if (strcmp(b->id, "rpi5") == 0) {
        const struct iogate_window *rio = find(ws, n, "rio"), *pads = find(ws, n, "pads");
        CHECK(rio && rio->base == b->gpio + 0x10000 && rio->length == 0xc000 && rio->writable, "rio window");
        CHECK(pads && pads->base == b->gpio + 0x20000 && pads->writable, "pads window");
    }
    uint64_t spi_len = spi ? spi->length : 0;
    iogate_windows_free(ws);

    uint64_t a = 0;
    OK(iogate_resolve(g, "spi0+0x10", &a));
    CHECK(a == b->spi0 + 0x10, "spi0+0x10 -> 0x%llX", (unsigned long long)a);
    char expr[64];
    snprintf(expr, sizeof expr, " %s ", b->gpio_name);
    OK(iogate_resolve(g, expr, &a));
    CHECK(a == b->gpio, "'%s' -> 0x%llX", expr, (unsigned long long)a);
    snprintf(expr, sizeof expr, "%s+52", b->gpio_name);
    OK(iogate_resolve(g, expr, &a));
    CHECK(a == b->gpio + 52, "%s (decimal) -> 0x%llX", expr, (unsigned long long)a);
    OK(iogate_resolve(g, "0xFE20_001C", &a));
    CHECK(a == 0xFE20001C, "0xFE20_001C -> 0x%llX", (unsigned long long)a);
    OK(iogate_resolve(g, "0b101", &a));
    CHECK(a == 5, "0b101 -> %llu", (unsigned long long)a);
    OK(iogate_resolve(g, "0o17", &a));
    CHECK(a == 15, "0o17 -> %llu", (unsigned long long)a);
    OK(iogate_resolve(g, "18446744073709551615", &a));
    CHECK(a == UINT64_MAX, "2^64-1 parses");
    REFUSED(iogate_resolve(g, "18446744073709551616", &a), EINVAL, IOGATE_ST_MALFORMED, "is not a number");
    REFUSED(iogate_resolve(g, "i2c1+0x4", &a), ENOENT, IOGATE_ST_NOT_FOUND, "your windows: ");
    REFUSED(iogate_resolve(g, "spi0+0x10000", &a), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "past the end of window 'spi0'");
    char past[64];
    snprintf(past, sizeof past, "spi0+0x%llx", (unsigned long long)spi_len);
    REFUSED(iogate_resolve(g, past, &a), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "past the end");
    REFUSED(iogate_resolve(g, "spi0+zz", &a), EINVAL, IOGATE_ST_MALFORMED, "offset 'zz'");
    REFUSED(iogate_resolve(g, "+4", &a), EINVAL, IOGATE_ST_MALFORMED, "WINDOW+OFFSET");
    REFUSED(iogate_resolve(g, "0x-1", &a), EINVAL, IOGATE_ST_MALFORMED, "WINDOW+OFFSET");
    REFUSED(iogate_resolve(g, "", &a), EINVAL, IOGATE_ST_MALFORMED, "WINDOW+OFFSET");
}

static void test_registers(const struct board *b) {
    section("read, write, modify, wait (every width)");
    uint64_t s = b->spi0, v = 0;
    OK(iogate_write(g, s + 0x00, 4, 0));
    OK(iogate_write(g, s + 0x00, 1, 0xAB));
    OK(iogate_write(g, s + 0x02, 2, 0xC0DE));
    CHECK(rd(s + 0x00, 4) == 0xC0DE00AB, "8- and 16-bit writes compose the 32-bit register little-endian: 0x%llX",
          (unsigned long long)rd(s, 4));
    CHECK(rd(s + 0x00, 1) == 0xAB && rd(s + 0x01, 1) == 0 && rd(s + 0x03, 1) == 0xC0, "8-bit reads");
    CHECK(rd(s + 0x02, 2) == 0xC0DE, "16-bit read");
    OK(iogate_write(g, s + 0x08, 8, 0x0123456789ABCDEFull));
    CHECK(rd(s + 0x08, 8) == 0x0123456789ABCDEFull, "64-bit round trip");
    CHECK(rd(s + 0x08, 4) == 0x89ABCDEF && rd(s + 0x0C, 4) == 0x01234567, "64-bit write as two 32-bit halves");
    OK(iogate_write(g, s + 0x10, 4, 0x11223344));
    CHECK(rd(s + 0x10, 4) == 0x11223344, "32-bit round trip");
    OK(iogate_write(g, s + 0x14, 1, 0x1FF)); /* only the low width bytes are sent */
    CHECK(rd(s + 0x14, 1) == 0xFF && rd(s + 0x15, 1) == 0, "a value wider than the write keeps its low byte only");

    v = 0;
    OK(iogate_modify(g, s + 0x10, 4, 0x0000FF00, 0x0000AB00, &v));
    CHECK(v == 0x11223344, "modify returns the old value: 0x%llX", (unsigned long long)v);
    CHECK(rd(s + 0x10, 4) == 0x1122AB44, "modify changed only the masked bits: 0x%llX", (unsigned long long)rd(s + 0x10, 4));
    OK(iogate_modify(g, s + 0x10, 4, 0, 0, NULL));
    CHECK(rd(s + 0x10, 4) == 0x1122AB44, "modify with mask 0 and old NULL changes nothing");
    OK(iogate_modify(g, s + 0x08, 8, 0xFF00000000000000ull, 0xAA00000000000000ull, &v));
    CHECK(v == 0x0123456789ABCDEFull && rd(s + 0x08, 8) == 0xAA23456789ABCDEFull, "64-bit modify");
    OK(iogate_modify(g, s + 0x14, 1, 0x0F, 0x05, &v));
    CHECK(v == 0xFF && rd(s + 0x14, 1) == 0xF5, "8-bit modify");

    v = 0;
    OK(iogate_wait(g, s + 0x10, 4, 0xFF00, 0xAB00, 100, &v));
    CHECK(v == 0x1122AB44, "wait returns the value that satisfied it: 0x%llX", (unsigned long long)v);
    OK(iogate_wait(g, s + 0x10, 4, 0xFF00, 0xAB00, 0, NULL));
    REFUSED(iogate_wait(g, s + 0x10, 4, 0xFF, 0x01, 30, &v), ETIMEDOUT, IOGATE_ST_TIMEOUT, "last value 0x1122AB44");
    REFUSED(iogate_wait(g, s + 0x10, 4, 0xFF, 0x01, 3600001, &v), E2BIG, IOGATE_ST_LIMIT_EXCEEDED, "");
    CHECK(rd(s + 0x10, 4) == 0x1122AB44, "the connection still serves after a timeout");
}

static void test_blocks(const struct board *b) {
    section("read_block, write_block");
    struct iogate_limits lim;
    iogate_get_limits(g, &lim);
    uint64_t s = b->spi0;
    uint16_t w16[100], r16[100];
    for (unsigned i = 0; i < 100; i++) w16[i] = (uint16_t)(0x1000 + i * 7);
    OK(iogate_write_block(g, s + 0x40, 2, 100, w16)); /* 200 bytes, more than max_block when that is 64 */
    memset(r16, 0, sizeof r16);
    OK(iogate_read_block(g, s + 0x40, 2, 100, r16));
    CHECK(memcmp(w16, r16, sizeof w16) == 0, "100 16-bit elements round trip");
    int same = 1;
    for (unsigned i = 0; i < 100; i += 33) same &= rd(s + 0x40 + 2 * i, 2) == w16[i];
    CHECK(same, "block elements read singly match");
    uint32_t w32[4] = {0xA0A0A0A0, 0xB1B1B1B1, 0xC2C2C2C2, 0xD3D3D3D3}, r32[4] = {0};
    OK(iogate_write_block(g, s + 0x20, 4, 4, w32));
    OK(iogate_read_block(g, s + 0x20, 4, 4, r32));
    CHECK(memcmp(w32, r32, sizeof w32) == 0 && rd(s + 0x2C, 4) == 0xD3D3D3D3, "32-bit block");
    uint8_t r8[16];
    OK(iogate_read_block(g, s + 0x20, 1, 16, r8));
    CHECK(r8[0] == 0xA0 && r8[4] == 0xB1 && r8[15] == 0xD3, "8-bit block read of the same bytes");
    uint64_t w64[2] = {0x1111222233334444ull, 0x5555666677778888ull}, r64[2] = {0};
    OK(iogate_write_block(g, s + 0x20, 8, 2, w64));
    OK(iogate_read_block(g, s + 0x20, 8, 2, r64));
    CHECK(r64[0] == w64[0] && r64[1] == w64[1] && rd(s + 0x24, 4) == 0x11112222, "64-bit block");
    OK(iogate_read_block(g, s, 4, 0, NULL));
    REFUSED(iogate_read_block(g, s, 4, 4, NULL), EINVAL, IOGATE_ST_MALFORMED, "NULL");
    /* A block running past the end of spi0 is refused whole: its first half, inside, is unchanged. */
    uint32_t inside[8], after[8], big[16];
    memset(big, 0x5A, sizeof big);
    uint64_t start = s + b->spi0_length - 0x20;
    OK(iogate_read_block(g, start, 4, 8, inside));
    REFUSED(iogate_write_block(g, start, 4, 16, big), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "outside the allowlist");
    REFUSED(iogate_read_block(g, start, 4, 16, big), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "outside the allowlist");
    OK(iogate_read_block(g, start, 4, 8, after));
    CHECK(memcmp(inside, after, sizeof inside) == 0, "a refused block write changed nothing");
    /* More elements than max_block: several requests (max_block is 64 in the rpi4 run). */
    uint32_t *many = calloc(lim.max_block + 8, 4), *back = calloc(lim.max_block + 8, 4);
    size_t count = b->spi0_length / 4 < lim.max_block + 8 ? b->spi0_length / 4 : lim.max_block + 8;
    for (size_t i = 0; many && i < count; i++) many[i] = (uint32_t)(0xC0000000u + i);
    if (count > lim.max_block) {
        OK(iogate_write_block(g, s, 4, count, many));
        OK(iogate_read_block(g, s, 4, count, back));
        CHECK(memcmp(many, back, count * 4) == 0 && rd(s + 4 * (count - 1), 4) == 0xC0000000u + count - 1,
              "%zu elements with max_block %u, split into requests", count, lim.max_block);
    }
    free(many);
    free(back);
}

static void test_refusals(const struct board *b) {
    section("refusals: daemon status codes");
    uint64_t v = 0x77;
    REFUSED(iogate_read(g, b->i2c1, 4, &v), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "outside the allowlist");
    REFUSED(iogate_write(g, b->i2c1, 4, 1), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "outside the allowlist");
    CHECK(v == 0x77, "a refused read leaves *value alone");
    OK(iogate_read(g, b->uart0, 4, &v)); /* ro grant: reads allowed */
    OK(iogate_wait(g, b->uart0, 4, 0, 0, 0, NULL));
    REFUSED(iogate_write(g, b->uart0, 4, 1), EACCES, IOGATE_ST_READ_ONLY, "");
    REFUSED(iogate_modify(g, b->uart0, 4, 1, 1, NULL), EACCES, IOGATE_ST_READ_ONLY, "");
    REFUSED(iogate_write_block(g, b->uart0, 4, 1, &v), EACCES, IOGATE_ST_READ_ONLY, "");
    CHECK(rd(b->uart0, 4) == 0, "uart0 unchanged after the read-only refusals");
    REFUSED(iogate_read(g, b->spi0, 3, &v), EINVAL, IOGATE_ST_BAD_WIDTH, "width");
    REFUSED(iogate_read(g, b->spi0, 16, &v), EINVAL, IOGATE_ST_BAD_WIDTH, "width");
    REFUSED(iogate_write(g, b->spi0, 0, 1), EINVAL, IOGATE_ST_BAD_WIDTH, "width");
    REFUSED(iogate_write(g, b->spi0, 300, 1), EINVAL, IOGATE_ST_BAD_WIDTH, "width of 300 bytes"); /* local: no width byte */
    REFUSED(iogate_modify(g, b->spi0, 1, 0x100, 0, NULL), EINVAL, IOGATE_ST_BAD_WIDTH, "");
    REFUSED(iogate_wait(g, b->spi0, 2, 0, 0x10000, 0, NULL), EINVAL, IOGATE_ST_BAD_WIDTH, "");
    REFUSED(iogate_read(g, b->spi0 + 2, 4, &v), EINVAL, IOGATE_ST_MISALIGNED, "not aligned to the 32-bit width");
    REFUSED(iogate_write(g, b->spi0 + 1, 2, 1), EINVAL, IOGATE_ST_MISALIGNED, "aligned");
    REFUSED(iogate_read(g, b->spi0 + 4, 8, &v), EINVAL, IOGATE_ST_MISALIGNED, "aligned");
    REFUSED(iogate_read(g, 0xFFFFFFFFFFFFFFFCull, 4, &v), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "");
    CHECK(iogate_read(NULL, 0, 4, &v) == -EINVAL, "NULL handle -> -EINVAL");
    REFUSED(iogate_read(g, b->spi0, 4, NULL), EINVAL, IOGATE_ST_MALFORMED, "NULL");
    OK(iogate_read(g, b->spi0, 4, &v)); /* the connection stays open after every refusal */
    CHECK(strcmp(iogate_status_name(IOGATE_ST_READ_ONLY), "read-only") == 0 && strcmp(iogate_status_name(99), "unknown") == 0,
          "status names");
}

static int has_range(const struct iogate_error_details *d, uint64_t base, int writable) {
    for (size_t i = 0; i < d->granted_count && i < IOGATE_MAX_GRANTED; i++)
        if (d->granted[i].base == base && d->granted[i].writable == writable) return 1;
    return 0;
}

static void test_details(const struct board *b, const char *socket_path) {
    section("typed error details (version 3)");
    struct iogate_error_details d;
    uint64_t v;
    struct iogate_window *ws = NULL;
    size_t nw = 0;
    OK(iogate_windows(g, &ws, &nw));
    const struct iogate_window *uart = find(ws, nw, "uart0");
    uint64_t uart_len = uart ? uart->length : 0;

    /* outside-allowlist: address, size, every granted range. */
    REFUSED(iogate_read(g, b->i2c1, 4, &v), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "outside the allowlist");
    OK(iogate_error_details(g, &d));
    CHECK(d.has_address && d.address == b->i2c1 && d.has_size && d.size == 4, "5: address 0x%llX (%d), size %llu (%d)",
          (unsigned long long)d.address, d.has_address, (unsigned long long)d.size, d.has_size);
    CHECK(d.granted_count == nw, "5: %zu granted ranges; the windows list has %zu", d.granted_count, nw);
    int all = 1;
    for (size_t i = 0; i < nw && i < IOGATE_MAX_GRANTED; i++) {
        int found = 0;
        for (size_t j = 0; j < d.granted_count && j < IOGATE_MAX_GRANTED; j++)
            if (d.granted[j].base == ws[i].base && d.granted[j].length == ws[i].length && d.granted[j].writable == ws[i].writable) found = 1;
        all &= found;
    }
    CHECK(all, "5: the granted ranges are the windows list");
    CHECK(!d.has_pin && !d.has_consumer && !d.has_sys_errno && !d.has_call && !d.has_operation, "5: no other records");
    char msg3[4200];
    snprintf(msg3, sizeof msg3, "%s", iogate_errmsg(g));

    /* A block of 2 x 32 bits: the size is the whole block's. */
    uint32_t two[2] = {0, 0};
    REFUSED(iogate_read_block(g, b->spi0 + b->spi0_length - 4, 4, 2, two), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "");
    OK(iogate_error_details(g, &d));
    CHECK(d.has_size && d.size == 8 && d.address == b->spi0 + b->spi0_length - 4, "5 (block): size %llu", (unsigned long long)d.size);

    /* read-only: the ro range. */
    REFUSED(iogate_write(g, b->uart0 + 4, 2, 1), EACCES, IOGATE_ST_READ_ONLY, "");
    OK(iogate_error_details(g, &d));
    CHECK(d.has_address && d.address == b->uart0 + 4 && d.has_size && d.size == 2, "6: address and size");
    CHECK(d.granted_count == 1 && d.granted[0].base == b->uart0 && d.granted[0].length == uart_len && !d.granted[0].writable,
          "6: the ro range (%zu ranges, first 0x%llX)", d.granted_count, (unsigned long long)d.granted[0].base);

    /* misaligned: address and size, no ranges. */
    REFUSED(iogate_read(g, b->spi0 + 2, 4, &v), EINVAL, IOGATE_ST_MISALIGNED, "not aligned to the 32-bit width");
    OK(iogate_error_details(g, &d));
    CHECK(d.has_address && d.address == b->spi0 + 2 && d.has_size && d.size == 4 && d.granted_count == 0, "7: address and size");

    /* A refused batch: the operation's index, on both encodings. */
    for (int plain = 0; plain < 2; plain++) {
        iogate_batch_t *fb;
        OK(iogate_batch_new(&fb));
        iogate_batch_write(fb, b->spi0 + 0x40, 4, 1);
        if (plain) iogate_batch_read(fb, b->spi0 + 0x200000000ull, 4); /* 8 GiB away: a plain batch */
        else iogate_batch_read(fb, b->spi0, 4);
        iogate_batch_write(fb, b->uart0, 4, 1);
        REFUSED(iogate_batch_run(g, fb, NULL), EACCES, plain ? IOGATE_ST_OUTSIDE_ALLOWLIST : IOGATE_ST_READ_ONLY, "nothing was run");
        OK(iogate_error_details(g, &d));
        CHECK(d.has_operation && d.operation == (plain ? 1u : 2u),
              "batch (opcode 0x%02X): operation %u (%d)", iogate_last_opcode(g), d.operation, d.has_operation);
        CHECK(has_range(&d, b->uart0, 0) || plain, "batch: the ro range");
        iogate_batch_free(fb);
    }

    /* A local failure clears them. */
    REFUSED(iogate_read(g, b->spi0, 4, NULL), EINVAL, IOGATE_ST_MALFORMED, "NULL");
    OK(iogate_error_details(g, &d));
    CHECK(!d.has_address && !d.has_size && d.granted_count == 0 && !d.has_operation, "a local failure has no details");
    CHECK(iogate_error_details(NULL, &d) == -EINVAL && iogate_error_details(g, NULL) == -EINVAL, "NULL arguments");

    /* Version 2: the same message, no details. */
    iogate_t *v2 = NULL;
    char err[256];
    int rc = iogate_open_ex(socket_path, 2, &v2, err, sizeof err);
    CHECK(rc == 0 && iogate_protocol_version(v2) == 2, "open with 1..2 -> %d: %s", rc, err);
    if (v2) {
        iogate_t *keep = g;
        g = v2;
        REFUSED(iogate_read(g, b->i2c1, 4, &v), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "outside the allowlist");
        CHECK(strcmp(iogate_errmsg(v2), msg3) == 0, "v2 message '%s' equals v3's '%s'", iogate_errmsg(v2), msg3);
        OK(iogate_error_details(g, &d));
        CHECK(!d.has_address && !d.has_size && d.granted_count == 0, "v2: no details");
        struct iogate_grant *gs = (struct iogate_grant *)1;
        size_t ng = 9;
        REFUSED(iogate_grants(g, &gs, &ng), EOPNOTSUPP, IOGATE_ST_UNKNOWN_OPERATION, "needs protocol version 3");
        CHECK(gs == NULL && ng == 0, "v2: no grants list");
        g = keep;
        iogate_close(v2);
    }

    /* The grants list: these daemons grant whole windows, so every entry is scope whole. */
    struct iogate_grant *gs = NULL;
    size_t ng = 0;
    OK(iogate_grants(g, &gs, &ng));
    CHECK(ng == nw, "%zu grants, %zu windows", ng, nw);
    int same = 1;
    for (size_t i = 0; i < ng && i < nw; i++)
        same &= gs[i].window.base == ws[i].base && gs[i].window.length == ws[i].length && gs[i].window.writable == ws[i].writable &&
                strcmp(gs[i].window.name, ws[i].name) == 0 && strcmp(gs[i].window.model, ws[i].model) == 0 &&
                gs[i].window.pins == ws[i].pins && gs[i].scope == IOGATE_GRANT_WHOLE && gs[i].pin_count == 0 && gs[i].pins == NULL;
    CHECK(same, "grants = windows, all whole");
    iogate_grants_free(gs);
    iogate_windows_free(ws);
}

static void test_batches(const struct board *b, const char *socket_path) {
    section("batches: compact on v3, plain on v1");
    struct iogate_limits lim;
    iogate_get_limits(g, &lim);
    iogate_t *v2 = g, *v1 = NULL;
    char err[256];
    int rc = iogate_open_ex(socket_path, 1, &v1, err, sizeof err);
    CHECK(rc == 0 && iogate_protocol_version(v1) == 1, "open with versions 1..1 -> %d, version %u: %s", rc, v1 ? iogate_protocol_version(v1) : 0, err);
    CHECK(iogate_protocol_version(v2) == 3, "iogate_open negotiates version 3");
    if (!v1) return;
    uint64_t s = b->spi0;
    iogate_batch_t *batch;
    OK(iogate_batch_new(&batch));
    CHECK(iogate_batch_write(batch, s + 0x80, 4, 0x11111111) == 0, "first op has index 0");
    CHECK(iogate_batch_read(batch, s + 0x80, 4) == 1, "second op has index 1");
    CHECK(iogate_batch_modify(batch, s + 0x80, 4, 0xFF00, 0xAB00) == 2, "third op");
    CHECK(iogate_batch_read(batch, s + 0x84, 2) == 3, "fourth op");
    CHECK(iogate_batch_write(batch, s + 0x88, 8, 0x0102030405060708ull) == 4, "fifth op");
    CHECK(iogate_batch_read(batch, s + 0x8B, 1) == 5, "sixth op");
    CHECK(iogate_batch_modify(batch, s + 0x8C, 1, 0x0F, 0x0A) == 6, "seventh op");
    CHECK(iogate_batch_count(batch) == 7, "count 7");
    for (int round = 0; round < 2; round++) {
        g = round == 0 ? v2 : v1;
        OK(iogate_write(g, s + 0x84, 4, 0xBEEF));
        uint64_t r[7];
        memset(r, 0xFF, sizeof r);
        OK(iogate_batch_run(g, batch, r));
        CHECK(iogate_last_opcode(g) == (round == 0 ? 0x21u : 0x20u), "v%d batch sent as opcode 0x%02X", round == 0 ? 3 : 1, iogate_last_opcode(g));
        CHECK(r[0] == 0 && r[1] == 0x11111111 && r[2] == 0x11111111 && r[3] == 0xBEEF && r[4] == 0 && r[5] == 0x05 && r[6] == 0x04,
              "v%d results %llX %llX %llX %llX %llX %llX %llX", round == 0 ? 3 : 1, (unsigned long long)r[0], (unsigned long long)r[1],
              (unsigned long long)r[2], (unsigned long long)r[3], (unsigned long long)r[4], (unsigned long long)r[5],
              (unsigned long long)r[6]);
        CHECK(rd(s + 0x80, 4) == 0x1111AB11 && rd(s + 0x88, 4) == 0x05060708 && rd(s + 0x8C, 1) == 0x0A, "v%d registers after the batch", round == 0 ? 3 : 1);
        OK(iogate_batch_run(g, batch, NULL)); /* results may be NULL */
    }
    g = v2;

    /* One forbidden operation: nothing runs, on either encoding, for every kind of refusal. */
    struct {
        uint64_t addr;
        unsigned width;
        int err, status;
        const char *what;
    } bad[] = {
        {b->uart0, 4, EACCES, IOGATE_ST_READ_ONLY, "read-only"},
        {b->i2c1, 4, EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "outside"},
        {s + 0x92, 4, EINVAL, IOGATE_ST_MISALIGNED, "misaligned"},
        {s + 0x90, 3, EINVAL, IOGATE_ST_BAD_WIDTH, "bad width"},
    };
    for (int round = 0; round < 2; round++) {
        g = round == 0 ? v2 : v1;
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            OK(iogate_write(g, s + 0x90, 4, 0x12345678));
            OK(iogate_write(g, s + 0x94, 4, 0));
            OK(iogate_write(g, s + 0x98, 4, 0));
            iogate_batch_t *fb;
            OK(iogate_batch_new(&fb));
            iogate_batch_write(fb, s + 0x90, 4, 0xDEAD);
            iogate_batch_modify(fb, s + 0x94, 4, 0xFF, 0x42);
            iogate_batch_write(fb, bad[k].addr, bad[k].width, 1);
            iogate_batch_write(fb, s + 0x98, 4, 0x99);
            uint64_t r[4] = {7, 7, 7, 7};
            const char *word = bad[k].status == IOGATE_ST_BAD_WIDTH ? "operation #2" : "nothing was run";
            REFUSED(iogate_batch_run(g, fb, r), bad[k].err, bad[k].status, word);
            CHECK(rd(s + 0x90, 4) == 0x12345678 && rd(s + 0x94, 4) == 0 && rd(s + 0x98, 4) == 0,
                  "v%d batch with one %s op changed nothing", round == 0 ? 3 : 1, bad[k].what);
            CHECK(r[0] == 7 && r[3] == 7, "results untouched by a refused batch");
            iogate_batch_free(fb);
        }
    }
    g = v2;

    /* Limits: max_batch operations run; one more is refused locally, nothing sent. */
    iogate_batch_t *many;
    OK(iogate_batch_new(&many));
    for (uint32_t i = 0; i < lim.max_batch; i++) iogate_batch_read(many, s + 4 * (i % 64), 4);
    uint64_t *res = calloc(lim.max_batch + 1, sizeof *res);
    OK(iogate_batch_run(g, many, res));
    CHECK(res && res[0] == rd(s, 4), "a batch of max_batch = %u reads", lim.max_batch);
    iogate_batch_read(many, s, 4);
    OK(iogate_read(g, s, 4, res));
    REFUSED(iogate_batch_run(g, many, res), E2BIG, IOGATE_ST_LIMIT_EXCEEDED, "allows 1...");
    CHECK(iogate_last_opcode(g) == 0x10, "an over-long batch is not sent (last opcode 0x%02X)", iogate_last_opcode(g));
    free(res);
    iogate_batch_clear(many);
    CHECK(iogate_batch_count(many) == 0, "clear empties the batch");
    OK(iogate_batch_run(g, many, NULL));
    CHECK(iogate_last_opcode(g) == 0x10, "an empty batch sends nothing");
    iogate_batch_free(many);
    /* Addresses more than 4 GiB apart cannot share a compact base: a plain batch, refused whole. */
    iogate_batch_t *far;
    OK(iogate_batch_new(&far));
    iogate_batch_read(far, s, 4);
    iogate_batch_read(far, s + 0x200000000ull, 4);
    REFUSED(iogate_batch_run(g, far, NULL), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "operation #1");
    CHECK(iogate_last_opcode(g) == 0x20, "addresses 8 GiB apart go as a plain batch on v2");
    iogate_batch_free(far);
    iogate_batch_free(batch);
    iogate_close(v1);
}

/* Field of width `bits` at `shift` of a register. */
static uint64_t field(uint64_t reg, unsigned shift, unsigned bits) { return (reg >> shift) & ((1ull << bits) - 1); }

static void test_gpio_bcm(const struct board *b) {
    section(strcmp(b->model, "bcm2835") == 0 ? "gpio: bcm2835 (Raspberry Pi 3)" : "gpio: bcm2711 (Raspberry Pi 4)");
    struct iogate_pin p;
    OK(iogate_gpio_pin(g, 17, &p));
    CHECK(p.base == b->gpio && p.line == 17 && p.number == 17 && strcmp(p.window, "gpio") == 0, "pin 17 is gpio line 17");
    uint64_t fsel1 = b->gpio + 0x04, lev0 = b->gpio + 0x34;
    OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_OUT));
    CHECK(field(rd(fsel1, 4), 21, 3) == 1, "GPFSEL1 bits 21-23 = 001 (output)");
    enum iogate_gpio_mode m = IOGATE_MODE_NONE;
    OK(iogate_gpio_get_mode(g, &p, &m));
    CHECK(m == IOGATE_MODE_OUT, "get_mode: %s", iogate_gpio_mode_name(m));
    int level = -1;
    OK(iogate_gpio_set(g, &p, 1));
    CHECK(rd(lev0, 4) & (1u << 17), "GPLEV0 bit 17 high after set 1");
    OK(iogate_gpio_get(g, &p, &level));
    CHECK(level == 1, "get -> %d", level);
    OK(iogate_gpio_set(g, &p, 0));
    CHECK(!(rd(lev0, 4) & (1u << 17)), "GPLEV0 bit 17 low after set 0");
    OK(iogate_gpio_get(g, &p, &level));
    CHECK(level == 0, "get -> %d", level);

    struct iogate_pin p4;
    OK(iogate_gpio_pin(g, 4, &p4));
    OK(iogate_gpio_set_mode(g, &p4, IOGATE_MODE_ALT0));
    CHECK(field(rd(b->gpio, 4), 12, 3) == 4 && field(rd(fsel1, 4), 21, 3) == 1, "pin 4 alt0: GPFSEL0 bits 12-14 = 100, pin 17 untouched");
    OK(iogate_gpio_get_mode(g, &p4, &m));
    CHECK(m == IOGATE_MODE_ALT0, "get_mode: %s", iogate_gpio_mode_name(m));
    OK(iogate_gpio_set_mode(g, &p4, IOGATE_MODE_ALT0 + 5));
    CHECK(field(rd(b->gpio, 4), 12, 3) == 2, "alt5 is code 010");
    OK(iogate_gpio_get_mode(g, &p4, &m));
    CHECK(m == IOGATE_MODE_ALT0 + 5, "get_mode: %s", iogate_gpio_mode_name(m));
    REFUSED(iogate_gpio_set_mode(g, &p4, IOGATE_MODE_ALT0 + 6), EINVAL, IOGATE_ST_NOT_FOUND, "allowed: in, out, alt0-alt5");
    REFUSED(iogate_gpio_set_mode(g, &p4, IOGATE_MODE_NONE), EINVAL, IOGATE_ST_NOT_FOUND, "does not exist");

    enum iogate_gpio_pull pull = IOGATE_PULL_NONE;
    if (strcmp(b->model, "bcm2711") == 0) {
        OK(iogate_gpio_set_pull(g, &p, IOGATE_PULL_UP));
        CHECK(field(rd(b->gpio + 0xe8, 4), 2, 2) == 1, "GPIO_PUP_PDN_CNTRL_REG1 bits 2-3 = 01 (up)");
        OK(iogate_gpio_get_pull(g, &p, &pull));
        CHECK(pull == IOGATE_PULL_UP, "get_pull: %s", iogate_gpio_pull_name(pull));
        OK(iogate_gpio_set_pull(g, &p, IOGATE_PULL_DOWN));
        CHECK(field(rd(b->gpio + 0xe8, 4), 2, 2) == 2, "pull down = 10");
        OK(iogate_gpio_get_pull(g, &p, &pull));
        CHECK(pull == IOGATE_PULL_DOWN, "get_pull: %s", iogate_gpio_pull_name(pull));
        OK(iogate_gpio_set_pull(g, &p, IOGATE_PULL_NONE));
        CHECK(field(rd(b->gpio + 0xe8, 4), 2, 2) == 0, "pull none = 00");
    } else {
        /* bcm2835: GPPUD/GPPUDCLK0; the mock latches the pull and an input reads it as its level. */
        OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_IN));
        OK(iogate_gpio_set_pull(g, &p, IOGATE_PULL_UP));
        CHECK(rd(b->gpio + 0x94, 4) == 0 && rd(b->gpio + 0x98, 4) == 0, "GPPUD and GPPUDCLK0 cleared after the sequence");
        OK(iogate_gpio_get(g, &p, &level));
        CHECK(level == 1, "an input pulled up reads 1");
        OK(iogate_gpio_set_pull(g, &p, IOGATE_PULL_DOWN));
        OK(iogate_gpio_get(g, &p, &level));
        CHECK(level == 0, "an input pulled down reads 0");
        REFUSED(iogate_gpio_get_pull(g, &p, &pull), EOPNOTSUPP, IOGATE_ST_NOT_FOUND, "cannot be read back");
    }
    OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_IN));
    CHECK(field(rd(fsel1, 4), 21, 3) == 0, "GPFSEL1 bits 21-23 = 000 (input)");

    /* The last pin, and one past it. */
    struct iogate_pin last;
    OK(iogate_gpio_pin(g, b->pins - 1, &last));
    OK(iogate_gpio_set_mode(g, &last, IOGATE_MODE_OUT));
    CHECK(field(rd(b->gpio + 4 * ((b->pins - 1) / 10), 4), 3 * ((b->pins - 1) % 10), 3) == 1, "pin %u output", b->pins - 1);
    OK(iogate_gpio_set(g, &last, 1));
    CHECK(rd(lev0 + 4, 4) & (1u << ((b->pins - 1) - 32)), "GPLEV1 shows pin %u high", b->pins - 1);
    REFUSED(iogate_gpio_pin(g, b->pins, &p), ENOENT, IOGATE_ST_NOT_FOUND, "pins 0...");
    struct iogate_pin named;
    OK(iogate_gpio_pin_in(g, "gpio", 17, &named));
    CHECK(named.base == b->gpio && named.line == 17 && named.number == 17, "gpio:17 is pin 17");
    REFUSED(iogate_gpio_pin_in(g, "gpio", b->pins, &named), ENOENT, IOGATE_ST_NOT_FOUND, "its pins are 0...");
    REFUSED(iogate_gpio_pin_in(g, "uart0", 1, &named), ENOENT, IOGATE_ST_NOT_FOUND, "GPIO windows: gpio");
}

static void test_gpio_rp1(const struct board *b) {
    section("gpio: rp1 (Raspberry Pi 5)");
    uint64_t io = b->gpio, rio = b->gpio + 0x10000, pads = b->gpio + 0x20000;
    struct iogate_pin p;
    OK(iogate_gpio_pin(g, 17, &p));
    CHECK(p.base == io && p.line == 17 && p.model == IOGATE_GPIO_RP1, "pin 17 is rp1 line 17");
    uint64_t ctrl = io + 8 * 17 + 4, pad = pads + 4 + 4 * 17;
    CHECK(rd(ctrl, 4) == 0x1f, "mock start: FUNCSEL 0x1f");
    enum iogate_gpio_mode m = IOGATE_MODE_IN;
    OK(iogate_gpio_get_mode(g, &p, &m));
    CHECK(m == IOGATE_MODE_NONE, "get_mode at reset: %s", iogate_gpio_mode_name(m));
    OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_OUT));
    CHECK(iogate_last_opcode(g) == 0x21, "rp1 mode change is one compact batch (opcode 0x%02X)", iogate_last_opcode(g));
    CHECK((rd(ctrl, 4) & 0xF01F) == 5, "CTRL: FUNCSEL 5, OUTOVER/OEOVER 0 (0x%llX)", (unsigned long long)rd(ctrl, 4));
    CHECK(rd(rio + 0x4, 4) & (1u << 17), "RIO OE bit 17 set");
    CHECK((rd(pad, 4) & 0xC0) == 0x40, "pad: input enabled, output not disabled");
    OK(iogate_gpio_get_mode(g, &p, &m));
    CHECK(m == IOGATE_MODE_OUT, "get_mode: %s", iogate_gpio_mode_name(m));
    int level = -1;
    OK(iogate_gpio_set(g, &p, 1));
    CHECK((rd(rio, 4) & (1u << 17)) && (rd(rio + 0x8, 4) & (1u << 17)), "RIO OUT and IN bit 17 high");
    OK(iogate_gpio_get(g, &p, &level));
    CHECK(level == 1, "get -> %d", level);
    OK(iogate_gpio_set(g, &p, 0));
    CHECK(!(rd(rio, 4) & (1u << 17)) && !(rd(rio + 0x8, 4) & (1u << 17)), "RIO OUT and IN bit 17 low");
    OK(iogate_gpio_get(g, &p, &level));
    CHECK(level == 0, "get -> %d", level);

    enum iogate_gpio_pull pull = IOGATE_PULL_NONE;
    OK(iogate_gpio_get_pull(g, &p, &pull));
    CHECK(pull == IOGATE_PULL_DOWN, "mock start: pull down (%s)", iogate_gpio_pull_name(pull));
    OK(iogate_gpio_set_pull(g, &p, IOGATE_PULL_UP));
    CHECK(field(rd(pad, 4), 2, 2) == 2, "pad PULL = 2 (up)");
    OK(iogate_gpio_get_pull(g, &p, &pull));
    CHECK(pull == IOGATE_PULL_UP, "get_pull: %s", iogate_gpio_pull_name(pull));
    OK(iogate_gpio_set_pull(g, &p, IOGATE_PULL_NONE));
    CHECK(field(rd(pad, 4), 2, 2) == 0, "pad PULL = 0 (none)");

    OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_IN));
    CHECK(!(rd(rio + 0x4, 4) & (1u << 17)) && (rd(ctrl, 4) & 0x1f) == 5, "input: RIO OE bit 17 clear, FUNCSEL 5");
    OK(iogate_gpio_get_mode(g, &p, &m));
    CHECK(m == IOGATE_MODE_IN, "get_mode: %s", iogate_gpio_mode_name(m));
    OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_ALT0 + 3));
    CHECK((rd(ctrl, 4) & 0x1f) == 3, "alt3: FUNCSEL 3");
    OK(iogate_gpio_get_mode(g, &p, &m));
    CHECK(m == IOGATE_MODE_ALT0 + 3, "get_mode: %s", iogate_gpio_mode_name(m));
    REFUSED(iogate_gpio_set_mode(g, &p, IOGATE_MODE_ALT0 + 5), EINVAL, IOGATE_ST_NOT_FOUND, "a5 is the GPIO function");
    OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_NONE));
    CHECK((rd(ctrl, 4) & 0x1f) == 0x1f, "none: FUNCSEL 0x1f");

    /* Pin 40 is bank 2 line 6: CTRL 0x8034, RIO bank 2 at +0x8000, pad 0x8000 + 4 + 24. */
    struct iogate_pin p40;
    OK(iogate_gpio_pin(g, 40, &p40));
    OK(iogate_gpio_set_mode(g, &p40, IOGATE_MODE_OUT));
    CHECK((rd(io + 0x8034, 4) & 0x1f) == 5 && (rd(rio + 0x8004, 4) & (1u << 6)), "pin 40: bank 2 CTRL and RIO OE bit 6");
    OK(iogate_gpio_set(g, &p40, 1));
    CHECK(rd(rio + 0x8000, 4) & (1u << 6), "pin 40 high in bank 2's RIO OUT");
    OK(iogate_gpio_set_pull(g, &p40, IOGATE_PULL_UP));
    CHECK(field(rd(pads + 0x8000 + 4 + 4 * 6, 4), 2, 2) == 2, "pin 40 pad pull up");
    /* Pin 30 is bank 1 line 2. */
    struct iogate_pin p30;
    OK(iogate_gpio_pin(g, 30, &p30));
    OK(iogate_gpio_set_mode(g, &p30, IOGATE_MODE_OUT));
    CHECK((rd(io + 0x4000 + 8 * 2 + 4, 4) & 0x1f) == 5 && (rd(rio + 0x4004, 4) & (1u << 2)), "pin 30: bank 1 CTRL and RIO OE bit 2");
    REFUSED(iogate_gpio_pin(g, 54, &p), ENOENT, IOGATE_ST_NOT_FOUND, "pins 0...53");
}

static void test_gpio_omap(const struct board *b) {
    section("gpio: omap (BeagleBone Black, 4 banks)");
    struct iogate_pin p;
    OK(iogate_gpio_pin(g, 49, &p)); /* Linux numbering: gpio1 line 17 */
    CHECK(p.base == b->gpio && p.line == 17 && p.number == 49 && strcmp(p.window, "gpio1") == 0 && p.model == IOGATE_GPIO_OMAP,
          "pin 49 is gpio1 line 17 (window %s, line %u)", p.window, p.line);
    struct iogate_pin q;
    OK(iogate_gpio_pin_in(g, "gpio1", 17, &q));
    CHECK(q.base == p.base && q.line == 17 && q.number == 49, "gpio1:17 is pin 49");
    uint64_t oe = b->gpio + 0x134, datain = b->gpio + 0x138, dataout = b->gpio + 0x13c;
    CHECK(rd(oe, 4) == 0xFFFFFFFF, "mock start: OE all ones (inputs)");
    enum iogate_gpio_mode m = IOGATE_MODE_NONE;
    OK(iogate_gpio_get_mode(g, &p, &m));
    CHECK(m == IOGATE_MODE_IN, "get_mode at reset: %s", iogate_gpio_mode_name(m));
    OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_OUT));
    CHECK(rd(oe, 4) == (0xFFFFFFFF & ~(1u << 17)), "OE bit 17 cleared, the others kept: 0x%llX", (unsigned long long)rd(oe, 4));
    OK(iogate_gpio_get_mode(g, &p, &m));
    CHECK(m == IOGATE_MODE_OUT, "get_mode: %s", iogate_gpio_mode_name(m));
    int level = -1;
    OK(iogate_gpio_set(g, &p, 1));
    CHECK((rd(dataout, 4) & (1u << 17)) && (rd(datain, 4) & (1u << 17)), "SETDATAOUT: DATAOUT and DATAIN bit 17 high");
    OK(iogate_gpio_get(g, &p, &level));
    CHECK(level == 1, "get -> %d", level);
    OK(iogate_gpio_set(g, &p, 0));
    CHECK(!(rd(dataout, 4) & (1u << 17)) && !(rd(datain, 4) & (1u << 17)), "CLEARDATAOUT: bit 17 low");
    OK(iogate_gpio_get(g, &p, &level));
    CHECK(level == 0, "get -> %d", level);
    REFUSED(iogate_gpio_set_mode(g, &p, IOGATE_MODE_ALT0), EINVAL, IOGATE_ST_NOT_FOUND, "allowed: in, out");
    REFUSED(iogate_gpio_set_pull(g, &p, IOGATE_PULL_UP), EOPNOTSUPP, IOGATE_ST_NOT_FOUND, "no pull registers");
    enum iogate_gpio_pull pull;
    REFUSED(iogate_gpio_get_pull(g, &p, &pull), EOPNOTSUPP, IOGATE_ST_NOT_FOUND, "cannot be read back");
    OK(iogate_gpio_set_mode(g, &p, IOGATE_MODE_IN));
    CHECK(rd(oe, 4) == 0xFFFFFFFF, "input: OE bit 17 set again");
    struct iogate_pin last;
    OK(iogate_gpio_pin(g, 127, &last));
    CHECK(strcmp(last.window, "gpio3") == 0 && last.line == 31, "pin 127 is gpio3 line 31");
    OK(iogate_gpio_set_mode(g, &last, IOGATE_MODE_OUT));
    CHECK(rd(0x481ae000 + 0x134, 4) == 0x7FFFFFFF, "gpio3 OE bit 31 cleared");
    REFUSED(iogate_gpio_pin(g, 128, &p), ENOENT, IOGATE_ST_NOT_FOUND, "pins 0...127");
    REFUSED(iogate_gpio_pin_in(g, "gpio4", 0, &p), ENOENT, IOGATE_ST_NOT_FOUND, "GPIO windows: gpio0, gpio1, gpio2, gpio3");
}

static int test_pin_grants(const char *socket_path) {
    printf("libiogate tests of the grants list on the mock rpi4 with pin and bits grants through %s\n", socket_path);
    section("grants list: pins and bits (version 3)");
    char err[512];
    int rc = iogate_open_ex(socket_path, 0, &g, err, sizeof err);
    CHECK(rc == 0 && iogate_protocol_version(g) == 3, "open -> %d: %s", rc, err);
    if (rc) return 1;
    struct iogate_grant *gs = NULL;
    size_t n = 0;
    OK(iogate_grants(g, &gs, &n));
    const struct iogate_grant *gpio = NULL, *bits = NULL;
    for (size_t i = 0; i < n; i++) {
        if (gs[i].window.base == 0xFE200000) gpio = &gs[i];
        if (gs[i].window.base == 0xFE204000) bits = &gs[i];
    }
    CHECK(gpio && strcmp(gpio->window.name, "gpio") == 0 && strcmp(gpio->window.model, "bcm2711") == 0 && gpio->window.writable &&
              gpio->scope == IOGATE_GRANT_PINS && gpio->pin_count == 2 && gpio->pins[0] == 17 && gpio->pins[1] == 27 && gpio->bits == 0,
          "gpio: scope %d, %zu pins", gpio ? (int)gpio->scope : -1, gpio ? gpio->pin_count : 0);
    CHECK(bits && bits->scope == IOGATE_GRANT_BITS && bits->bits == 0xFF && !bits->window.writable && bits->window.length == 0x100 &&
              bits->pin_count == 0 && bits->pins == NULL,
          "raw range: scope %d, bits 0x%X", bits ? (int)bits->scope : -1, bits ? bits->bits : 0);
    struct iogate_window *ws = NULL;
    size_t nw = 0;
    OK(iogate_windows(g, &ws, &nw));
    CHECK(nw == n, "as many grants (%zu) as windows (%zu)", n, nw);
    iogate_windows_free(ws);
    iogate_grants_free(gs);
    /* GPSET0 bit 18: pin 18 is not granted. */
    REFUSED(iogate_write(g, 0xFE20001C, 4, 1u << 18), EACCES, IOGATE_ST_OUTSIDE_ALLOWLIST, "pin 18");
    OK(iogate_write(g, 0xFE20001C, 4, 1u << 17));
    section(NULL);
    iogate_close(g);
    printf("rpi4-pins: %d checks passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s BOARD SOCKET MAX_BLOCK MAX_BATCH\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "rpi4-pins") == 0) return test_pin_grants(argv[2]);
    const struct board *b = NULL;
    for (size_t i = 0; i < sizeof boards / sizeof boards[0]; i++)
        if (strcmp(boards[i].id, argv[1]) == 0) b = &boards[i];
    if (!b) {
        fprintf(stderr, "test_iogate: unknown board '%s' (rpi3, rpi4, rpi5, beaglebone-black)\n", argv[1]);
        return 2;
    }
    const char *socket_path = argv[2];
    printf("libiogate tests on the mock %s (%s) through %s\n", b->id, b->model, socket_path);
    test_open(socket_path);
    char err[512];
    int rc = iogate_open_ex(socket_path, 0, &g, err, sizeof err);
    CHECK(rc == 0, "iogate_open(%s) -> %d: %s", socket_path, rc, err);
    if (rc != 0) return 1;
    struct iogate_limits lim;
    iogate_get_limits(g, &lim);
    CHECK(lim.max_block == strtoul(argv[3], NULL, 0) && lim.max_batch == strtoul(argv[4], NULL, 0) && lim.max_frame == 1048576,
          "limits from the hello: max_frame %u, max_batch %u, max_block %u", lim.max_frame, lim.max_batch, lim.max_block);
    test_windows(b);
    test_registers(b);
    test_blocks(b);
    test_refusals(b);
    test_details(b, socket_path);
    test_batches(b, socket_path);
    if (strcmp(b->model, "rp1") == 0) test_gpio_rp1(b);
    else if (strcmp(b->model, "omap") == 0) test_gpio_omap(b);
    else test_gpio_bcm(b);
    section(NULL);
    iogate_close(g);
    printf("%s: %d checks passed, %d failed\n", b->id, passed, failed);
    return failed ? 1 : 0;
}
