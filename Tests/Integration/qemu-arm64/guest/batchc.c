// batchc SOCKET OP...   (OP: r:ADDR | w:ADDR:VALUE | m:ADDR:MASK:VALUE; 32-bit accesses)
//
// Sends one protocol-version-1 batch (opcode 0x20) to iogated and prints each result as 0x%08x, one
// a line. The iogate CLI has no batch command, so the emulated-Pi harness uses this to prove the arm64
// daemon serves batches under its seccomp filter. The frame layout follows Sources/IOGateProtocol
// (Wire.swift, Codec.swift): a little-endian u32 length prefix, then opcode u8, flags u8, status u16,
// id u32; hello body magic "IOGT" u32, min u16, max u16; batch body count u32, reserved u32, then
// 32-byte operations {kind u8, width u8, 6 zero bytes, address u64, mask u64, value u64}; the batch
// response body is count u32, reserved u32, count x u64. A non-zero status carries a message.
// The guest is little-endian (aarch64), so integers are copied as they are.
// Exit status: 0 success, 1 refused (status != 0), 2 usage, 3 cannot connect or protocol error.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int sendall(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int recvall(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

// Receives one frame; returns its payload (header included) in a malloc'd buffer, length in *len.
static uint8_t *frame(int fd, uint32_t *len) {
    if (recvall(fd, (uint8_t *)len, 4) != 0 || *len < 8 || *len > (1u << 24)) return NULL;
    uint8_t *b = malloc(*len);
    if (b == NULL || recvall(fd, b, *len) != 0) return NULL;
    return b;
}

static uint16_t status_of(const uint8_t *b) {
    uint16_t s;
    memcpy(&s, b + 2, 2);
    return s;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: batchc SOCKET r:ADDR|w:ADDR:VALUE|m:ADDR:MASK:VALUE...\n");
        return 2;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "batchc: cannot connect to %s: %s\n", argv[1], strerror(errno));
        return 3;
    }
    // hello: version 1 only, so the daemon takes a version-1 batch.
    uint8_t hello[20] = {0};
    uint32_t u32 = 16, magic = 0x54474F49;
    uint16_t one = 1;
    memcpy(hello, &u32, 4);
    hello[4] = 0x01;
    u32 = 1;
    memcpy(hello + 8, &u32, 4);
    memcpy(hello + 12, &magic, 4);
    memcpy(hello + 16, &one, 2);
    memcpy(hello + 18, &one, 2);
    uint32_t len;
    uint8_t *r;
    if (sendall(fd, hello, sizeof hello) != 0 || (r = frame(fd, &len)) == NULL) {
        fprintf(stderr, "batchc: hello failed\n");
        return 3;
    }
    if (status_of(r) != 0) {
        fprintf(stderr, "batchc: hello refused (status %u): %.*s\n", status_of(r), (int)(len - 8), (char *)r + 8);
        return 1;
    }
    free(r);

    uint32_t n = (uint32_t)(argc - 2);
    size_t total = 4 + 8 + 8 + 32 * (size_t)n;
    uint8_t *req = calloc(1, total);
    if (req == NULL) return 3;
    u32 = (uint32_t)(total - 4);
    memcpy(req, &u32, 4);
    req[4] = 0x20;
    u32 = 2;
    memcpy(req + 8, &u32, 4);
    memcpy(req + 12, &n, 4);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *op = req + 20 + 32 * i;
        const char *a = argv[2 + i];
        unsigned long long addr = 0, mask = 0, value = 0;
        int ok;
        if (a[0] == 'r') {
            op[0] = 1;
            ok = sscanf(a, "r:%lli", &addr) == 1;
        } else if (a[0] == 'w') {
            op[0] = 2;
            ok = sscanf(a, "w:%lli:%lli", &addr, &value) == 2;
        } else if (a[0] == 'm') {
            op[0] = 3;
            ok = sscanf(a, "m:%lli:%lli:%lli", &addr, &mask, &value) == 3;
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "batchc: bad operation '%s'\n", a);
            return 2;
        }
        op[1] = 4;  // 32-bit
        uint64_t v64 = addr;
        memcpy(op + 8, &v64, 8);
        v64 = mask;
        memcpy(op + 16, &v64, 8);
        v64 = value;
        memcpy(op + 24, &v64, 8);
    }
    if (sendall(fd, req, total) != 0 || (r = frame(fd, &len)) == NULL) {
        fprintf(stderr, "batchc: batch request failed\n");
        return 3;
    }
    if (status_of(r) != 0) {
        fprintf(stderr, "batchc: refused (status %u): %.*s\n", status_of(r), (int)(len - 8), (char *)r + 8);
        return 1;
    }
    uint32_t count;
    memcpy(&count, r + 8, 4);
    if (count != n || len < 16 + 8 * (size_t)n) {
        fprintf(stderr, "batchc: response has %u results for %u operations (%u bytes)\n", count, n, len);
        return 3;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, r + 16 + 8 * i, 8);
        printf("0x%08llx\n", (unsigned long long)v);
    }
    return 0;
}
