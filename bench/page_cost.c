/* What a fresh page of memory costs on this machine (BENCHMARKS.md, "Recording"): maps SIZE MiB,
 * writes one byte every 32 (one recorder entry each), unmaps, ROUNDS times; with a third
 * argument, asks for transparent huge pages first.
 *   cc -O2 bench/page_cost.c -o /tmp/page_cost && /tmp/page_cost 64 6 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SIZE_MIB ROUNDS [huge]\n", argv[0]);
        return 2;
    }
    size_t size = (size_t)atol(argv[1]) << 20;
    int rounds = atoi(argv[2]);
    for (int round = 0; round < rounds; round++) {
        char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        if (argc > 3) madvise(p, size, MADV_HUGEPAGE);
        double start = now();
        for (size_t i = 0; i < size; i += 32) p[i] = 1;
        double took = now() - start;
        printf("round %d: %.0f ns per 4 KiB page, %.2f ns per 32 bytes\n", round,
               took / (size / 4096) * 1e9, took / (size / 32) * 1e9);
        munmap(p, size);
    }
    return 0;
}
