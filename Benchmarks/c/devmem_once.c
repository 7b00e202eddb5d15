// Baseline: one process per access, the `busybox devmem` way: open the device, mmap one page,
// do one volatile 32-bit read, print it, exit. Usage: devmem_once FILE ADDRESS
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: devmem_once FILE ADDRESS\n"); return 2; }
    uint64_t a = strtoull(argv[2], NULL, 0);
    long page = sysconf(_SC_PAGESIZE);
    int fd = open(argv[1], O_RDWR | O_SYNC);
    if (fd < 0) { perror("open"); return 1; }
    void *m = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(a & ~(uint64_t)(page - 1)));
    if (m == MAP_FAILED) { perror("mmap"); return 1; }
    uint32_t v = *(volatile uint32_t *)((char *)m + (a & (uint64_t)(page - 1)));
    printf("0x%08" PRIX32 "\n", v);
    munmap(m, (size_t)page);
    close(fd);
    return 0;
}
