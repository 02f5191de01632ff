/* Feeds every file under the folders and files named on the command line
 * through the fuzz target, once each, and says so in TAP: a plain program
 * where libFuzzer is not there, and a quick check that the corpus still
 * passes. Inputs go in name order, so runs compare. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger inputs are refused by the reader anyway; read a bit past its
 * limit so that refusal is exercised. */
#define REPLAY_MAX_BYTES (16 * 1024 * 1024)
#define REPLAY_MAX_DEPTH 8

struct replay {
	unsigned n;
	unsigned failed;
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(struct replay *r, const char *path, int depth);

static void
replay_dir(struct replay *r, const char *path, int depth)
{
	struct ku_strv names = { 0 };
	struct dirent *de;
	DIR *d = opendir(path);

	if (d == NULL) {
		printf("not ok %u - %s: %s\n", ++r->n, path, strerror(errno));
		r->failed++;
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			ku_strv_push(&names, de->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof *names.v, name_cmp);
	for (size_t i = 0; i < names.n; i++) {
		char *child = ku_path_join(path, names.v[i]);
		replay_path(r, child, depth + 1);
		free(child);
	}
	ku_strv_free(&names);
}

static void
replay_path(struct replay *r, const char *path, int depth)
{
	struct ku_buf b;
	struct stat st;

	if (stat(path, &st) != 0) {
		printf("not ok %u - %s: %s\n", ++r->n, path, strerror(errno));
		r->failed++;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth < REPLAY_MAX_DEPTH)
			replay_dir(r, path, depth);
		return;
	}
	ku_buf_init(&b, 0);
	if (ku_read_file(path, REPLAY_MAX_BYTES, &b) != KU_OK) {
		printf("not ok %u - %s: cannot be read\n", ++r->n, path);
		r->failed++;
	} else {
		/* A crash ends the program: the missing "ok" and the
		 * plan tell. */
		fflush(stdout);
		LLVMFuzzerTestOneInput((const uint8_t *)(b.data ? b.data : ""),
		    b.len);
		printf("ok %u - %s\n", ++r->n, path);
	}
	ku_buf_free(&b);
}

int
main(int argc, char **argv)
{
	struct replay r = { 0 };

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		replay_path(&r, argv[i], 0);
	printf("1..%u\n", r.n);
	return r.failed ? 1 : 0;
}
