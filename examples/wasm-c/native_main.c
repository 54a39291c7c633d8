/*
 * native_main.c: runs the example program natively, on the system libc's
 * malloc, for comparison with the wasm build.  Usage: ./workload [scale]
 */
#include <stdio.h>
#include <stdlib.h>

#include "rt.h"

void print_line(const char *text, size_t len) {
	fwrite(text, 1, len, stdout);
	fputc('\n', stdout);
}

int main(int argc, char **argv) {
	unsigned long scale = argc > 1 ? strtoul(argv[1], NULL, 10) : 1;
	run((uint32_t)scale);
	return 0;
}
