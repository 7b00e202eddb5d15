// Baseline: the cost of one volatile 32-bit load through an mmap of the device file, in a loop
// over one 4 KiB page (as the daemon's hot path does). Usage: volatile_loop FILE BASE N
// Prints nanoseconds per access (best of 5 runs).
#include "bench_common.h"
#include <fcntl.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: volatile_loop FILE BASE N\n"); return 2; }
    uint64_t base = strtoull(argv[2], NULL, 0);
    long n = atol(argv[3]);
    int fd = open(argv[1], O_RDWR | O_SYNC);
    if (fd < 0) die("open");
    volatile uint32_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
    if ((void *)p == MAP_FAILED) die("mmap");
    double best = 1e9;
    uint32_t sum = 0;
    for (int run = 0; run < 5; run++) {
        uint64_t t = now_ns();
        for (long i = 0; i < n; i++) sum += p[i & 1023];
        double ns = (double)(now_ns() - t) / (double)n;
        if (ns < best) best = ns;
    }
    printf("%.3f %u\n", best, sum);
    return 0;
}
