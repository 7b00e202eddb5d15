// Baseline: a C server doing what iogated does for a batch, minus policy. It reads batch frames in
// IOGate's wire formats (docs/PROTOCOL.md), performs each 32-bit read as a volatile load from an
// mmap of the same file, and answers in the same response layout:
//   0x20 batch (version 1): 8-byte body header, 32 bytes per operation; 8 bytes per result.
//   0x21 compact batch (version 2): 16-byte body header (count, reserved, base), 8 bytes per read
//        (kind, width, padding, 32-bit offset); `width` bytes per result (4 for a 32-bit read).
// Only 32-bit reads are served (what the bench sends). Bounds are checked, nothing else.
// Usage: batch_server SOCKET FILE BASE LENGTH   (BASE = file offset = physical address of the window)
#include "bench_common.h"
#include <fcntl.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: batch_server SOCKET FILE BASE LENGTH\n"); return 2; }
    uint64_t base = strtoull(argv[3], NULL, 0), length = strtoull(argv[4], NULL, 0);
    int fd = open(argv[2], O_RDWR | O_SYNC);
    if (fd < 0) die("open");
    volatile uint8_t *map = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
    if (map == MAP_FAILED) die("mmap");
    int s = listen_unix(argv[1]);
    size_t cap = 1 << 20;
    uint8_t *in = malloc(cap), *out = malloc(cap);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) { if (errno == EINTR) continue; die("accept"); }
        for (;;) {
            // `in` holds the payload: header (opcode, flags, status, id) at 0, body at 8.
            uint32_t len;
            if (read_full(c, &len, 4) != 0 || len < 16 || len + 4 > cap) break;
            if (read_full(c, in, len) != 0) break;
            uint32_t count;
            memcpy(&count, in + 8, 4);
            memcpy(out + 4, in, 8);  // opcode, flags, status, id
            out[5] = 1;              // response flag
            memcpy(out + 12, &count, 4);
            memset(out + 16, 0, 4);
            uint32_t outLen;
            if (in[0] == 0x21) {  // compact batch
                if (len < 24 || 24 + (size_t)count * 8 > len) break;
                uint64_t b;
                memcpy(&b, in + 16, 8);
                const uint8_t *op = in + 24;
                uint8_t *res = out + 20;
                for (uint32_t i = 0; i < count; i++, op += 8, res += 4) {
                    uint32_t off;
                    memcpy(&off, op + 4, 4);
                    uint64_t a = b + off;
                    uint32_t v = 0;
                    if (a >= base && a - base + 4 <= length && (a & 3) == 0)
                        v = *(volatile uint32_t *)(map + (a - base));
                    memcpy(res, &v, 4);
                }
                outLen = 16 + count * 4;
            } else {  // version 1 batch
                if (16 + (size_t)count * 32 > len) break;
                const uint8_t *op = in + 16;
                uint8_t *res = out + 20;
                for (uint32_t i = 0; i < count; i++, op += 32, res += 8) {
                    uint64_t a;
                    memcpy(&a, op + 8, 8);
                    uint64_t v = 0;
                    if (a >= base && a - base + 4 <= length && (a & 3) == 0)
                        v = *(volatile uint32_t *)(map + (a - base));
                    memcpy(res, &v, 8);
                }
                outLen = 16 + count * 8;
            }
            memcpy(out, &outLen, 4);
            if (write_full(c, out, outLen + 4) != 0) break;
        }
        close(c);
    }
}
