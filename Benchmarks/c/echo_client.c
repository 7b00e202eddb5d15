// Baseline client. Modes:
//   echo_client echo SOCKET N            N round trips of 16 bytes; prints "p50_ns ops_per_s"
//   echo_client batch SOCKET N OPS BASE  N batches of OPS 32-bit reads in IOGate's version 1 batch
//                                        frame (0x20, 32 bytes per operation) against batch_server
//   echo_client compact SOCKET N OPS BASE  the same as compact batches (0x21, 8 bytes per read),
//                                        the encoding the IOGate library uses with a version 2 daemon
// Batch modes print "p50_ns ops_per_s" too. Blocking I/O; the first 10% of round trips warm up
// and are not counted. The request is encoded once, as a client with a prepared batch would.
#include "bench_common.h"

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: echo_client echo|batch|compact SOCKET N [OPS BASE]\n"); return 2; }
    int batch = strcmp(argv[1], "batch") == 0, compact = strcmp(argv[1], "compact") == 0;
    if ((batch || compact) && argc < 6) { fprintf(stderr, "usage: echo_client %s SOCKET N OPS BASE\n", argv[1]); return 2; }
    long n = atol(argv[3]);
    uint32_t ops = batch || compact ? (uint32_t)atol(argv[4]) : 0;
    uint64_t base = batch || compact ? strtoull(argv[5], NULL, 0) : 0;
    int s = connect_unix(argv[2]);
    // Frame sizes: 4 length + 8 header + body.
    size_t reqLen = 16, respLen = 16;
    if (batch) reqLen = 20 + (size_t)ops * 32, respLen = 20 + (size_t)ops * 8;
    if (compact) reqLen = 28 + (size_t)ops * 8, respLen = 20 + (size_t)ops * 4;
    uint8_t *req = calloc(1, reqLen), *resp = malloc(respLen);
    if (batch || compact) {
        uint32_t len = (uint32_t)reqLen - 4;
        memcpy(req, &len, 4);
        req[4] = compact ? 0x21 : 0x20;
        memcpy(req + 12, &ops, 4);
        if (compact) memcpy(req + 20, &base, 8);
        for (uint32_t i = 0; i < ops; i++) {
            uint8_t *op = compact ? req + 28 + (size_t)i * 8 : req + 20 + (size_t)i * 32;
            op[0] = 1;  // read
            op[1] = 4;  // 32-bit
            if (compact) {
                uint32_t off = (i % 1024) * 4;
                memcpy(op + 4, &off, 4);
            } else {
                uint64_t a = base + (uint64_t)(i % 1024) * 4;
                memcpy(op + 8, &a, 8);
            }
        }
    }
    long warm = n / 10;
    uint64_t *lat = malloc(sizeof(uint64_t) * (size_t)n);
    uint64_t t0 = 0;
    for (long i = 0; i < warm + n; i++) {
        if (i == warm) t0 = now_ns();
        uint64_t a = now_ns();
        if (write_full(s, req, reqLen) != 0 || read_full(s, resp, respLen) != 0) die("round trip");
        if (i >= warm) lat[i - warm] = now_ns() - a;
    }
    uint64_t total = now_ns() - t0;
    qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
    double perRT = batch || compact ? ops : 1;
    printf("%llu %.0f\n", (unsigned long long)lat[n / 2], (double)n * perRT / ((double)total / 1e9));
    return 0;
}
