// Baseline: a C server doing what iogated does for a batch, minus policy: it reads a batch frame
// in IOGate's wire format (docs/PROTOCOL.md: 16-byte header, 32 bytes per operation), performs
// each 32-bit read as a volatile load from an mmap of the same file, and answers with the same
// response layout (16-byte header, 8 bytes per result). Bounds are checked, nothing else.
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
            uint32_t len;
            if (read_full(c, &len, 4) != 0 || len < 16 || len + 4 > cap) break;
            if (read_full(c, in, len) != 0) break;
            uint32_t count;
            memcpy(&count, in + 8, 4);
            if (16 + (size_t)count * 32 > len + 4) break;
            uint32_t outLen = 12 + count * 8;
            memcpy(out, &outLen, 4);
            memcpy(out + 4, in, 8);  // opcode, flags, status, id
            out[5] = 1;              // response flag
            memcpy(out + 12, &count, 4);
            memset(out + 16, 0, 4);
            const uint8_t *op = in + 12;
            uint64_t *res = (uint64_t *)(out + 20);
            for (uint32_t i = 0; i < count; i++, op += 32) {
                uint64_t a;
                memcpy(&a, op + 8, 8);
                uint64_t v = 0;
                if (a >= base && a - base + 4 <= length && (a & 3) == 0)
                    v = *(volatile uint32_t *)(map + (a - base));
                memcpy(&res[i], &v, 8);
            }
            if (write_full(c, out, outLen + 4) != 0) break;
        }
        close(c);
    }
}
