/*
 * Wire-level tests of libiogate against a scripted fake daemon (a forked child on a temporary
 * Unix socket), no iogated needed: the exact request bytes of PROTOCOL.md's worked examples
 * (section 9), responses delivered one byte at a time (short reads) while signals interrupt the
 * client (EINTR), a request larger than the socket buffer (short writes), a peer that closes
 * (no SIGPIPE, -ECONNRESET then -ENOTCONN), a stream error, a mismatched response and a refused
 * handshake. Prints FAIL lines and a summary; exits 1 if anything failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <iogate.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond, ...)                                \
    do {                                                \
        if (cond) {                                     \
            passed++;                                   \
        } else {                                        \
            failed++;                                   \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

static char sock_path[108];
static int listen_fd = -1;

/* ---- The fake daemon's side ---------------------------------------------------------------- */

static int dribble; /* send responses one byte at a time, with pauses */

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static int read_n(int fd, uint8_t *p, size_t n) {
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_n(int fd, const uint8_t *p, size_t n) {
    while (n) {
        size_t chunk = dribble ? 1 : n;
        ssize_t k = write(fd, p, chunk);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
        if (dribble) pause_ms(1);
    }
    return 0;
}

/* Reads one request and compares it with `want` (n bytes), ignoring the id at bytes 8..11 when
 * ignore_id; exits the child with status 10 + step on a mismatch. Returns the request's id. */
static uint32_t expect(int fd, const uint8_t *want, size_t n, int ignore_id, int step) {
    uint8_t got[256];
    if (n > sizeof got || read_n(fd, got, n) != 0) _exit(10 + step);
    for (size_t i = 0; i < n; i++) {
        if (ignore_id && i >= 8 && i < 12) continue;
        if (got[i] != want[i]) {
            fprintf(stderr, "fake daemon: step %d: request byte %zu is 0x%02X, expected 0x%02X\n", step, i, got[i], want[i]);
            _exit(10 + step);
        }
    }
    return (uint32_t)got[8] | (uint32_t)got[9] << 8 | (uint32_t)got[10] << 16 | (uint32_t)got[11] << 24;
}

/* Sends `frame` (n bytes) with its id (bytes 8..11) replaced by `id`. */
static void reply(int fd, const uint8_t *frame, size_t n, uint32_t id) {
    uint8_t out[256];
    memcpy(out, frame, n);
    out[8] = (uint8_t)id, out[9] = (uint8_t)(id >> 8), out[10] = (uint8_t)(id >> 16), out[11] = (uint8_t)(id >> 24);
    if (write_n(fd, out, n) != 0) _exit(9);
}

/* PROTOCOL.md 9.1, offering versions 1..3 (max_version 3 at the end); the fake daemon is a version
 * 2 daemon and answers 2, except in the version 3 script below. */
static const uint8_t hello_req[] = {0x10, 0, 0, 0, 0x01, 0, 0, 0, 1, 0, 0, 0, 0x49, 0x4F, 0x47, 0x54, 1, 0, 3, 0};
static const uint8_t hello_resp_v2[] = {0x18, 0, 0, 0, 0x01, 0x01, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
                                        0, 0, 0x10, 0, 0, 0x10, 0, 0, 0, 0, 1, 0};

static void handshake(int fd) {
    uint32_t id = expect(fd, hello_req, sizeof hello_req, 0, 0);
    reply(fd, hello_resp_v2, sizeof hello_resp_v2, id);
}

typedef void (*script_fn)(int fd);

/* Forks the fake daemon: it accepts one connection and runs `script` on it. */
static pid_t serve(script_fn script) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) _exit(8);
        script(fd);
        close(fd);
        _exit(0);
    }
    return pid;
}

static int finished(pid_t pid) {
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

/* ---- Scripts -------------------------------------------------------------------------------- */

static void script_examples(int fd) {
    handshake(fd);
    /* 9.2: 32-bit read of 0xFE200034 -> 0x0000C3F0. */
    static const uint8_t read_req[] = {0x18, 0, 0, 0, 0x10, 0, 0, 0, 2, 0, 0, 0, 0x34, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0};
    static const uint8_t read_resp[] = {0x0C, 0, 0, 0, 0x10, 0x01, 0, 0, 2, 0, 0, 0, 0xF0, 0xC3, 0, 0};
    reply(fd, read_resp, sizeof read_resp, expect(fd, read_req, sizeof read_req, 0, 1));
    /* 9.3: modify GPFSEL1 -> old value 0. */
    static const uint8_t mod_req[] = {0x28, 0, 0, 0, 0x12, 0, 0, 0, 3, 0, 0, 0, 0x04, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0,
                                      0, 0, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0};
    static const uint8_t mod_resp[] = {0x10, 0, 0, 0, 0x12, 0x01, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    reply(fd, mod_resp, sizeof mod_resp, expect(fd, mod_req, sizeof mod_req, 0, 2));
    /* 9.4: a misaligned read, answered with status 7 and its message. */
    static const uint8_t mis_req[] = {0x18, 0, 0, 0, 0x10, 0, 0, 0, 4, 0, 0, 0, 0x36, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0};
    const char *msg = "address 0xFE200036 is not aligned to the 32-bit width; it must be a multiple of 4";
    uint8_t mis_resp[12 + 81] = {0x59, 0, 0, 0, 0x10, 0x01, 0x07, 0, 4, 0, 0, 0};
    memcpy(mis_resp + 12, msg, 81);
    reply(fd, mis_resp, sizeof mis_resp, expect(fd, mis_req, sizeof mis_req, 0, 3));
    /* 9.8: a compact batch (id 8 in the document, 5 here). */
    static const uint8_t cb_req[] = {0x48, 0, 0, 0, 0x21, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
                                     0x00, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 1, 4, 0, 0, 0x34, 0, 0, 0,
                                     2, 4, 0, 0, 0x1C, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0,
                                     3, 4, 0, 0, 0x04, 0, 0, 0, 0, 0, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0};
    static const uint8_t cb_resp[] = {0x18, 0, 0, 0, 0x21, 0x01, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0xC3, 0, 0, 0, 0, 0, 0};
    reply(fd, cb_resp, sizeof cb_resp, expect(fd, cb_req, sizeof cb_req, 0, 4));
    /* 9.7: windows. */
    static const uint8_t win_req[] = {0x08, 0, 0, 0, 0x02, 0, 0, 0, 6, 0, 0, 0};
    static const uint8_t win_resp[] = {0x41, 0, 0, 0, 0x02, 0x01, 0, 0, 6, 0, 0, 0, 2, 0, 0, 0,
                                       0x00, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 1, 4, 'g', 'p', 'i', 'o',
                                       7, 'b', 'c', 'm', '2', '7', '1', '1', 0x3A, 0,
                                       0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    reply(fd, win_resp, sizeof win_resp, expect(fd, win_req, sizeof win_req, 0, 5));
}

static void test_examples(void) {
    pid_t pid = serve(script_examples);
    iogate_t *g = NULL;
    char err[256];
    int rc = iogate_open_ex(sock_path, 0, &g, err, sizeof err);
    CHECK(rc == 0 && iogate_protocol_version(g) == 2, "hello (9.1, versions 1..3, a version 2 daemon) -> %d: %s", rc, err);
    if (rc) {
        finished(pid);
        return;
    }
    struct iogate_limits lim;
    iogate_get_limits(g, &lim);
    CHECK(lim.max_frame == 1048576 && lim.max_batch == 4096 && lim.max_block == 65536, "limits decoded");
    uint64_t v = 0;
    rc = iogate_read(g, 0xFE200034, 4, &v);
    CHECK(rc == 0 && v == 0xC3F0, "read (9.2) -> %d, 0x%llX", rc, (unsigned long long)v);
    v = 99;
    rc = iogate_modify(g, 0xFE200004, 4, 0x00E00000, 0x00200000, &v);
    CHECK(rc == 0 && v == 0, "modify (9.3) -> %d, old 0x%llX", rc, (unsigned long long)v);
    rc = iogate_read(g, 0xFE200036, 4, &v);
    CHECK(rc == -EINVAL && iogate_status(g) == 7 && strcmp(iogate_errmsg(g), "address 0xFE200036 is not aligned to the 32-bit width; it must be a multiple of 4") == 0,
          "error response (9.4) -> %d, status %d, '%s'", rc, iogate_status(g), iogate_errmsg(g));
    iogate_batch_t *b;
    iogate_batch_new(&b);
    iogate_batch_read(b, 0xFE200034, 4);
    iogate_batch_write(b, 0xFE20001C, 4, 1u << 17);
    iogate_batch_modify(b, 0xFE200004, 4, 0x00E00000, 0x00200000);
    uint64_t r[3] = {1, 1, 1};
    rc = iogate_batch_run(g, b, r);
    CHECK(rc == 0 && r[0] == 0xC3F0 && r[1] == 0 && r[2] == 0, "compact batch (9.8) -> %d: %llX %llX %llX", rc, (unsigned long long)r[0],
          (unsigned long long)r[1], (unsigned long long)r[2]);
    iogate_batch_free(b);
    struct iogate_window *ws = NULL;
    size_t n = 0;
    rc = iogate_windows(g, &ws, &n);
    CHECK(rc == 0 && n == 2 && ws[0].base == 0xFE200000 && ws[0].length == 0x100 && ws[0].writable && strcmp(ws[0].name, "gpio") == 0 &&
              strcmp(ws[0].model, "bcm2711") == 0 && ws[0].pins == 58 && ws[1].base == 0x1000000 && ws[1].length == 0x1000 &&
              !ws[1].writable && ws[1].name[0] == 0 && ws[1].model[0] == 0 && ws[1].pins == 0,
          "windows (9.7) -> %d, %zu entries", rc, n);
    iogate_windows_free(ws);
    iogate_close(g);
    int st = finished(pid);
    CHECK(st == 0, "the fake daemon saw the exact bytes of PROTOCOL.md section 9 (exit %d: step %d)", st, st - 10);
}

/* Short reads under a storm of signals: every response arrives one byte per millisecond. */
static volatile sig_atomic_t alarms;
static void on_alarm(int sig) {
    (void)sig;
    alarms++;
}

static void script_slow(int fd) {
    dribble = 1;
    handshake(fd);
    static const uint8_t read_req[] = {0x18, 0, 0, 0, 0x10, 0, 0, 0, 2, 0, 0, 0, 0x34, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0};
    static const uint8_t read_resp[] = {0x10, 0, 0, 0, 0x10, 0x01, 0, 0, 2, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    reply(fd, read_resp, sizeof read_resp, expect(fd, read_req, sizeof read_req, 1, 1));
}

static void test_eintr_short_reads(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: blocked recv calls fail with EINTR */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 300}, {0, 300}};
    setitimer(ITIMER_REAL, &it, NULL);
    pid_t pid = serve(script_slow);
    iogate_t *g = NULL;
    char err[256];
    int rc = iogate_open_ex(sock_path, 0, &g, err, sizeof err);
    CHECK(rc == 0, "hello delivered byte by byte under signals -> %d: %s", rc, err);
    uint64_t v = 0;
    if (rc == 0) rc = iogate_read(g, 0xFE200034, 8, &v);
    CHECK(rc == 0 && v == 0x1122334455667788ull, "64-bit read delivered byte by byte -> %d, 0x%llX: %s", rc, (unsigned long long)v,
          g ? iogate_errmsg(g) : err);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    CHECK(alarms > 5, "signals interrupted the client (%d SIGALRMs)", (int)alarms);
    iogate_close(g);
    CHECK(finished(pid) == 0, "fake daemon done");
}

/* Short writes: a block write of 65536 64-bit values (512 KiB) to a peer that reads slowly. */
static void script_big_write(int fd) {
    handshake(fd);
    uint8_t head[28];
    if (read_n(fd, head, sizeof head) != 0) _exit(11);
    uint32_t length = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
    if (head[4] != 0x11 || length != 8 + 16 + 8 * 65536u || head[20] != 8) _exit(12);
    for (uint32_t i = 0; i < 65536; i++) {
        uint8_t e[8];
        if (i % 8192 == 0) pause_ms(5);
        if (read_n(fd, e, 8) != 0) _exit(13);
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v |= (uint64_t)e[k] << (8 * k);
        if (v != 0xA5A5000000000000ull + i) _exit(14);
    }
    uint8_t resp[12] = {8, 0, 0, 0, 0x11, 0x01, 0, 0};
    memcpy(resp + 8, head + 8, 4);
    if (write_n(fd, resp, 12) != 0) _exit(15);
}

static void test_short_writes(void) {
    pid_t pid = serve(script_big_write);
    iogate_t *g = NULL;
    int rc = iogate_open(sock_path, &g);
    uint64_t *vals = malloc(65536 * sizeof *vals);
    for (uint32_t i = 0; vals && i < 65536; i++) vals[i] = 0xA5A5000000000000ull + i;
    if (rc == 0 && vals) rc = iogate_write_block(g, 0x1000000, 8, 65536, vals);
    CHECK(rc == 0, "512 KiB block write through a slow reader -> %d: %s", rc, g ? iogate_errmsg(g) : "");
    free(vals);
    iogate_close(g);
    int st = finished(pid);
    CHECK(st == 0, "the fake daemon received every element in order (exit %d)", st);
}

/* A daemon that goes away: no SIGPIPE, -ECONNRESET, then -ENOTCONN. */
static void script_close(int fd) { handshake(fd); }

static void test_peer_closes(void) {
    signal(SIGPIPE, SIG_DFL); /* a send without MSG_NOSIGNAL would kill this process */
    pid_t pid = serve(script_close);
    iogate_t *g = NULL;
    int rc = iogate_open(sock_path, &g);
    CHECK(rc == 0, "open");
    finished(pid);
    uint64_t v;
    if (g) {
        rc = iogate_read(g, 0, 4, &v);
        CHECK((rc == -ECONNRESET) && iogate_status(g) == IOGATE_ST_UNREACHABLE && strstr(iogate_errmsg(g), "closed the connection"),
              "a request after the daemon closed -> %d (%s): %s", rc, strerror(-rc), iogate_errmsg(g));
        uint32_t big[1024] = {0};
        rc = iogate_write_block(g, 0, 4, 1024, big);
        CHECK(rc == -ENOTCONN && strstr(iogate_errmsg(g), "open a new handle"), "later calls -> %d: %s", rc, iogate_errmsg(g));
    }
    iogate_close(g);
}

/* A stream error (opcode 0, id 0), a response with the wrong id, a refused handshake. */
static void script_stream_error(int fd) {
    handshake(fd);
    uint8_t req[28];
    if (read_n(fd, req, sizeof req) != 0) _exit(11);
    const char *msg = "frame length 99999999 exceeds the limit of 1048576 bytes";
    uint8_t resp[12 + 64] = {0, 0, 0, 0, 0, 0x01, 4, 0, 0, 0, 0, 0};
    size_t n = strlen(msg);
    resp[0] = (uint8_t)(8 + n);
    memcpy(resp + 12, msg, n);
    write_n(fd, resp, 12 + n);
}

/* A version 3 daemon: 7.1's example refusal with an unknown record and a cut one mixed in. */
static void script_details(int fd) {
    uint32_t id = expect(fd, hello_req, sizeof hello_req, 0, 0);
    uint8_t v3[sizeof hello_resp_v2];
    memcpy(v3, hello_resp_v2, sizeof v3);
    v3[12] = 3;
    reply(fd, v3, sizeof v3, id);
    static const uint8_t read_req[] = {0x18, 0, 0, 0, 0x10, 0, 0, 0, 2, 0, 0, 0, 0x00, 0x50, 0x21, 0xFE, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0};
    static const uint8_t tail[] = {0, 1, 8, 0x00, 0x50, 0x21, 0xFE, 0, 0, 0, 0,
                                   0x63, 3, 9, 9, 9,                          /* tag 99: unknown, skipped */
                                   2, 4, 1, 2, 3, 4,                          /* size with a wrong length: skipped */
                                   2, 8, 4, 0, 0, 0, 0, 0, 0, 0,
                                   3, 17, 0x00, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 0xF4, 0, 0, 0, 0, 0, 0, 0, 1,
                                   5, 4, 'g', 'p', 'i', 'o',
                                   6, 4, 0xFB, 0xFF, 0xFF, 0xFF,              /* errno -5 */
                                   8, 4, 3, 0, 0, 0,
                                   1, 8, 0, 0};                               /* cut short: ends the list */
    const char *msg = "read of 32 bits at 0xFE215000 refused: outside the allowlist";
    size_t m = strlen(msg);
    uint8_t resp[256] = {0, 0, 0, 0, 0x10, 0x01, 5, 0};
    resp[0] = (uint8_t)(8 + m + sizeof tail);
    memcpy(resp + 12, msg, m);
    memcpy(resp + 12 + m, tail, sizeof tail);
    reply(fd, resp, 12 + m + sizeof tail, expect(fd, read_req, sizeof read_req, 0, 1));
    /* 9.9: the grants list. */
    static const uint8_t gr_req[] = {0x08, 0, 0, 0, 0x03, 0, 0, 0, 3, 0, 0, 0};
    static const uint8_t gr_resp[] = {0x4D, 0, 0, 0, 0x03, 0x01, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0,
                                      0x00, 0x00, 0x20, 0xFE, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 1, 4, 'g', 'p', 'i', 'o',
                                      7, 'b', 'c', 'm', '2', '7', '1', '1', 0x3A, 0, 1, 2, 0, 0x11, 0, 0x1B, 0,
                                      0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xFF, 0, 0, 0};
    reply(fd, gr_resp, sizeof gr_resp, expect(fd, gr_req, sizeof gr_req, 0, 2));
}

static void test_details(void) {
    pid_t pid = serve(script_details);
    iogate_t *g = NULL;
    int rc = iogate_open(sock_path, &g);
    CHECK(rc == 0 && iogate_protocol_version(g) == 3, "version 3 hello -> %d", rc);
    if (rc) {
        finished(pid);
        return;
    }
    uint64_t v;
    rc = iogate_read(g, 0xFE215000, 4, &v);
    CHECK(rc == -EACCES && strcmp(iogate_errmsg(g), "read of 32 bits at 0xFE215000 refused: outside the allowlist") == 0,
          "7.1 refusal -> %d, message '%s'", rc, iogate_errmsg(g));
    struct iogate_error_details d;
    CHECK(iogate_error_details(g, &d) == 0, "details");
    CHECK(d.has_address && d.address == 0xFE215000 && d.has_size && d.size == 4, "address and size (unknown and bad-length records skipped)");
    CHECK(d.granted_count == 1 && d.granted[0].base == 0xFE200000 && d.granted[0].length == 0xF4 && d.granted[0].writable, "granted");
    CHECK(d.has_consumer && strcmp(d.consumer, "gpio") == 0 && d.has_sys_errno && d.sys_errno == -5 && d.has_operation && d.operation == 3,
          "consumer '%s', errno %d, operation %u", d.consumer, (int)d.sys_errno, d.operation);
    CHECK(!d.has_pin && !d.has_call, "absent records stay absent");
    struct iogate_grant *gs = NULL;
    size_t n = 0;
    rc = iogate_grants(g, &gs, &n);
    CHECK(rc == 0 && n == 2, "grants (9.9) -> %d, %zu entries: %s", rc, n, iogate_errmsg(g));
    if (rc == 0 && n == 2) {
        CHECK(gs[0].scope == IOGATE_GRANT_PINS && gs[0].pin_count == 2 && gs[0].pins[0] == 17 && gs[0].pins[1] == 27 &&
                  strcmp(gs[0].window.name, "gpio") == 0 && strcmp(gs[0].window.model, "bcm2711") == 0 && gs[0].window.pins == 58,
              "entry 0: gpio, pins 17 and 27");
        CHECK(gs[1].scope == IOGATE_GRANT_BITS && gs[1].bits == 0xFF && gs[1].window.base == 0x1000000 && !gs[1].window.writable &&
                  gs[1].pins == NULL,
              "entry 1: bits 0xFF");
    }
    iogate_grants_free(gs);
    iogate_close(g);
    CHECK(finished(pid) == 0, "fake daemon done");
}

static void script_wrong_id(int fd) {
    handshake(fd);
    uint8_t req[28];
    if (read_n(fd, req, sizeof req) != 0) _exit(11);
    static const uint8_t resp[] = {0x0C, 0, 0, 0, 0x10, 0x01, 0, 0, 0x77, 0, 0, 0, 1, 2, 3, 4};
    write_n(fd, resp, sizeof resp);
}

static void script_refuse_hello(int fd) {
    uint8_t req[20];
    if (read_n(fd, req, sizeof req) != 0) _exit(11);
    const char *msg = "no protocol version in common: client speaks 1...2, daemon 3...3";
    uint8_t resp[12 + 80] = {0, 0, 0, 0, 0x01, 0x01, 2, 0};
    size_t n = strlen(msg);
    resp[0] = (uint8_t)(8 + n);
    memcpy(resp + 8, req + 8, 4);
    memcpy(resp + 12, msg, n);
    write_n(fd, resp, 12 + n);
}

static void test_broken_peers(void) {
    pid_t pid = serve(script_stream_error);
    iogate_t *g = NULL;
    uint64_t v;
    int rc = iogate_open(sock_path, &g);
    if (rc == 0) {
        rc = iogate_read(g, 0, 4, &v);
        CHECK(rc == -E2BIG && iogate_status(g) == IOGATE_ST_LIMIT_EXCEEDED && strstr(iogate_errmsg(g), "exceeds the limit"),
              "stream error -> %d, status %d: %s", rc, iogate_status(g), iogate_errmsg(g));
        rc = iogate_read(g, 0, 4, &v);
        CHECK(rc == -ENOTCONN, "the handle is unusable after a stream error -> %d", rc);
    } else {
        CHECK(0, "open -> %d", rc);
    }
    iogate_close(g);
    finished(pid);

    pid = serve(script_wrong_id);
    g = NULL;
    rc = iogate_open(sock_path, &g);
    if (rc == 0) {
        rc = iogate_read(g, 0, 4, &v);
        CHECK(rc == -EPROTO && strstr(iogate_errmsg(g), "does not match the request"), "mismatched id -> %d: %s", rc, iogate_errmsg(g));
    } else {
        CHECK(0, "open -> %d", rc);
    }
    iogate_close(g);
    finished(pid);

    pid = serve(script_refuse_hello);
    char err[256];
    g = (iogate_t *)1;
    rc = iogate_open_ex(sock_path, 0, &g, err, sizeof err);
    CHECK(rc == -EPROTONOSUPPORT && g == NULL && strstr(err, "no protocol version in common"), "refused hello -> %d: %s", rc, err);
    finished(pid);
}

int main(void) {
    snprintf(sock_path, sizeof sock_path, "/tmp/iogate-wire-%ld.sock", (long)getpid());
    unlink(sock_path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(listen_fd, 4) != 0) {
        perror("test_wire: listen");
        return 2;
    }
    test_examples();
    test_details();
    test_eintr_short_reads();
    test_short_writes();
    test_peer_closes();
    test_broken_peers();
    close(listen_fd);
    unlink(sock_path);
    printf("wire: %d checks passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
