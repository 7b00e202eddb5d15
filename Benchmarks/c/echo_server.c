// Baseline: the smallest Unix-socket server. Each client sends 16-byte requests; each is echoed
// back with blocking read/write, one client at a time. Usage: echo_server SOCKET
#include "bench_common.h"

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: echo_server SOCKET\n"); return 2; }
    int s = listen_unix(argv[1]);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) { if (errno == EINTR) continue; die("accept"); }
        char buf[16];
        while (read_full(c, buf, sizeof buf) == 0 && write_full(c, buf, sizeof buf) == 0) {}
        close(c);
    }
}
