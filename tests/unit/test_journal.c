/* Unit tests of src/journal.c: records survive, damage is cut off at the
 * first bad record, and kill -9 at any moment leaves a journal that opens
 * and holds only whole records. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "journal.h"
#include "testlib.h"
#include "util.h"

struct fx {
	char *dir;
	char *path;
	/* Freed by teardown, so that a failed test leaks nothing. */
	struct ku_journal *j;
	char *scratch;
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	f->dir = tl_mkdtemp("journal");
	f->path = ku_path_join(f->dir, "journal");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ku_journal_close(f->j);
	free(f->scratch);
	tl_rmtree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* The file's contents (NUL-terminated), caller frees. */
static char *
slurp(const char *path, size_t *len)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	assert_int_equal(ku_read_file(path, 0, &b), KU_OK);
	if (len)
		*len = b.len;
	return ku_buf_steal(&b);
}

static void
spit(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Offset just past the n-th newline (n >= 1) of data. */
static size_t
end_of_line(const char *data, size_t len, int n)
{
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n' && --n == 0)
			return i + 1;
	fail_msg("fewer lines than expected");
	return 0;
}

static size_t
count_lines(const char *data, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	return n;
}

/* "t<i>" targets of substep "s" in phase "1", each done. */
static void
write_numbered(struct ku_journal *j, int from, int to)
{
	char target[32], msg[32];

	for (int i = from; i < to; i++) {
		snprintf(target, sizeof target, "t%d", i);
		snprintf(msg, sizeof msg, "%d", i);
		assert_int_equal(ku_journal_record(j, "1", "s", target,
		    KU_STATE_DONE, KU_OK, msg), KU_OK);
	}
}

/* Writes three records t0..t2 and closes; returns the file's bytes. */
static char *
three_records(const char *path, size_t *len)
{
	struct ku_journal *j = NULL;

	unlink(path);
	assert_int_equal(ku_journal_open(path, &j, NULL), KU_OK);
	write_numbered(j, 0, 3);
	ku_journal_close(j);
	return slurp(path, len);
}

/* --- tests --- */

static void
test_survive_close_open(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;
	size_t dropped = 99;
	struct stat st;

	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ku_journal_state(j, "1", "connect", "node-1"),
	    KU_STATE_PENDING);
	assert_int_equal(ku_journal_record(j, "1", "connect", "node-1",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	assert_int_equal(ku_journal_record(j, "1", "connect", "node-2",
	    KU_STATE_FAILED, KU_ERR_CONNECT, "node-2 (10.0.0.12): refused"),
	    KU_OK);
	assert_int_equal(ku_journal_record(j, "4.1", "start-kubelet",
	    "node-2", KU_STATE_SKIPPED, KU_ERR_TIMEOUT, "timed out"), KU_OK);
	/* Visible at once, before the journal is closed. */
	assert_int_equal(ku_journal_state(j, "1", "connect", "node-1"),
	    KU_STATE_DONE);
	ku_journal_close(j);

	j = NULL;
	dropped = 99;
	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(ku_journal_state(j, "1", "connect", "node-1"),
	    KU_STATE_DONE);
	assert_int_equal(ku_journal_state(j, "1", "connect", "node-2"),
	    KU_STATE_FAILED);
	assert_int_equal(ku_journal_state(j, "4.1", "start-kubelet",
	    "node-2"), KU_STATE_SKIPPED);
	/* Keys do not bleed into each other. */
	assert_int_equal(ku_journal_state(j, "1", "connect", "node-3"),
	    KU_STATE_PENDING);
	assert_int_equal(ku_journal_state(j, "4.1", "connect", "node-1"),
	    KU_STATE_PENDING);
	assert_int_equal(ku_journal_state(j, "1", "start-kubelet", "node-2"),
	    KU_STATE_PENDING);
	ku_journal_close(j);
	ku_journal_close(NULL);

	/* Each record is one line: 16 hex digits, a space, JSON. */
	{
		size_t len;
		char *data = slurp(f->path, &len);
		char *line = data;
		assert_int_equal(count_lines(data, len), 3);
		for (int i = 0; i < 3; i++) {
			char *nl = strchr(line, '\n');
			struct json_object *o;
			assert_non_null(nl);
			*nl = '\0';
			for (int k = 0; k < 16; k++)
				assert_non_null(strchr("0123456789abcdef",
				    line[k]));
			assert_int_equal(line[16], ' ');
			o = json_tokener_parse(line + 17);
			assert_non_null(o);
			json_object_put(o);
			line = nl + 1;
		}
		free(data);
	}
}

static void
test_last_state_wins(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;
	static const enum ku_state seq[] = {
		KU_STATE_FAILED, KU_STATE_DONE, KU_STATE_FAILED,
		KU_STATE_SKIPPED, KU_STATE_DONE, KU_STATE_FAILED,
	};

	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	for (size_t i = 0; i < KU_ARRAY_LEN(seq); i++) {
		assert_int_equal(ku_journal_record(j, "3", "static-pods",
		    "master", seq[i], seq[i] == KU_STATE_FAILED ?
		    KU_ERR_REMOTE : KU_OK, NULL), KU_OK);
		assert_int_equal(ku_journal_state(j, "3", "static-pods",
		    "master"), seq[i]);
	}
	assert_int_equal(ku_journal_record(j, "3", "static-pods", "node-1",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	ku_journal_close(j);

	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	assert_int_equal(ku_journal_state(j, "3", "static-pods", "master"),
	    KU_STATE_FAILED);
	assert_int_equal(ku_journal_state(j, "3", "static-pods", "node-1"),
	    KU_STATE_DONE);
	ku_journal_close(j);
}

static void
test_torn_last_record(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;
	size_t len, dropped = 0, cut;
	char *data = three_records(f->path, &len);
	size_t end2 = end_of_line(data, len, 2);

	/* Cut the last record in its middle. */
	cut = end2 + (len - end2) / 2;
	assert_int_equal(truncate(f->path, (off_t)cut), 0);

	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, cut - end2);
	assert_true(dropped > 0);
	assert_int_equal(file_size(f->path), (off_t)end2);
	assert_int_equal(ku_journal_state(j, "1", "s", "t0"), KU_STATE_DONE);
	assert_int_equal(ku_journal_state(j, "1", "s", "t1"), KU_STATE_DONE);
	assert_int_equal(ku_journal_state(j, "1", "s", "t2"),
	    KU_STATE_PENDING);

	/* Appending after the repair gives a sound journal. */
	write_numbered(j, 2, 4);
	ku_journal_close(j);
	j = NULL;
	dropped = 99;
	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, 0);
	for (int i = 0; i < 4; i++) {
		char t[8];
		snprintf(t, sizeof t, "t%d", i);
		assert_int_equal(ku_journal_state(j, "1", "s", t),
		    KU_STATE_DONE);
	}
	ku_journal_close(j);
	free(data);

	/* A last record whose newline alone is missing is torn too. */
	data = three_records(f->path, &len);
	spit(f->path, data, len - 1);
	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, len - 1 - end_of_line(data, len, 2));
	assert_int_equal(ku_journal_state(j, "1", "s", "t2"),
	    KU_STATE_PENDING);
	assert_int_equal(ku_journal_state(j, "1", "s", "t1"), KU_STATE_DONE);
	ku_journal_close(j);
	free(data);
}

/* Flips one byte of the second of three records, at offset `at` within
 * the line, and checks that the second and third are dropped. */
static void
check_flip(const char *path, size_t at)
{
	struct ku_journal *j = NULL;
	size_t len, dropped = 0;
	char *data = three_records(path, &len);
	size_t end1 = end_of_line(data, len, 1);

	assert_true(end1 + at < end_of_line(data, len, 2) - 1);
	data[end1 + at] ^= 0x01;
	spit(path, data, len);

	assert_int_equal(ku_journal_open(path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, len - end1);
	assert_int_equal(file_size(path), (off_t)end1);
	assert_int_equal(ku_journal_state(j, "1", "s", "t0"), KU_STATE_DONE);
	assert_int_equal(ku_journal_state(j, "1", "s", "t1"),
	    KU_STATE_PENDING);
	assert_int_equal(ku_journal_state(j, "1", "s", "t2"),
	    KU_STATE_PENDING);
	ku_journal_close(j);
	free(data);
}

static void
test_flipped_checksum(void **state)
{
	struct fx *f = *state;

	check_flip(f->path, 0);
	check_flip(f->path, 15);
}

/* Where "t1" is named in the second record, from the start of its line. */
static size_t
target_offset(const char *path)
{
	size_t len;
	char *data = three_records(path, &len);
	size_t end1 = end_of_line(data, len, 1);
	const char *hit = strstr(data + end1, "\"t1\"");
	size_t at;

	assert_non_null(hit);
	at = (size_t)(hit - data) - end1 + 1;
	free(data);
	return at;
}

static void
test_flipped_json(void **state)
{
	struct fx *f = *state;

	check_flip(f->path, 17);   /* the opening brace */
	check_flip(f->path, 30);   /* inside the JSON */
	/* Still valid JSON, naming another target: only the checksum
	 * tells. */
	check_flip(f->path, target_offset(f->path));
}

static void
test_flipped_separator(void **state)
{
	struct fx *f = *state;

	check_flip(f->path, 16);   /* the space becomes '!' */
}

static void
test_garbage_file(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;
	size_t dropped = 0;
	static const char garbage[] =
	    "this is not a journal\nat all\n\x01\x02\x03 binary \xff\n";

	spit(f->path, garbage, sizeof garbage - 1);
	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, sizeof garbage - 1);
	assert_int_equal(file_size(f->path), 0);
	assert_int_equal(ku_journal_runs(j), 0);
	assert_int_equal(ku_journal_record(j, "1", "s", "t0",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	ku_journal_close(j);

	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(ku_journal_state(j, "1", "s", "t0"), KU_STATE_DONE);
	ku_journal_close(j);
}

static void
test_empty_file(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;
	size_t dropped = 99;

	spit(f->path, "", 0);
	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(file_size(f->path), 0);
	assert_int_equal(ku_journal_runs(j), 0);
	assert_false(ku_journal_phase_done(j, "1"));
	assert_int_equal(ku_journal_state(j, "1", "s", "t0"),
	    KU_STATE_PENDING);
	ku_journal_close(j);

	/* dropped may be NULL. */
	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	ku_journal_close(j);
}

static void
test_unopenable(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;
	char *p = ku_path_join(f->dir, "no/such/folder/journal");

	assert_int_equal(ku_journal_open(p, &j, NULL), KU_ERR_IO);
	assert_null(j);
	free(p);
}

static void
test_phase_markers_and_runs(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;

	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	assert_int_equal(ku_journal_runs(j), 0);
	assert_int_equal(ku_journal_mark(j, "run-start", NULL), KU_OK);
	assert_int_equal(ku_journal_runs(j), 1);
	assert_int_equal(ku_journal_mark_phase(j, "1", KU_STATE_DONE), KU_OK);
	assert_int_equal(ku_journal_mark_phase(j, "2", KU_STATE_FAILED),
	    KU_OK);
	assert_int_equal(ku_journal_mark_phase(j, "4.1", KU_STATE_DONE),
	    KU_OK);
	assert_int_equal(ku_journal_mark_phase(j, "4.1", KU_STATE_FAILED),
	    KU_OK);
	assert_int_equal(ku_journal_mark(j, "run-end", "aborted"), KU_OK);
	assert_int_equal(ku_journal_mark(j, "something-else", NULL), KU_OK);
	assert_int_equal(ku_journal_runs(j), 1);
	assert_int_equal(ku_journal_mark(j, "run-start", NULL), KU_OK);
	assert_int_equal(ku_journal_mark(j, "run-start", "again"), KU_OK);
	assert_int_equal(ku_journal_runs(j), 3);
	assert_true(ku_journal_phase_done(j, "1"));
	assert_false(ku_journal_phase_done(j, "2"));
	assert_false(ku_journal_phase_done(j, "4.1"));
	assert_false(ku_journal_phase_done(j, "4"));
	/* A phase marker is not a target's state, and the other way. */
	assert_int_equal(ku_journal_record(j, "5", "kube-proxy", "cluster",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	assert_false(ku_journal_phase_done(j, "5"));
	ku_journal_close(j);

	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	assert_int_equal(ku_journal_runs(j), 3);
	assert_true(ku_journal_phase_done(j, "1"));
	assert_false(ku_journal_phase_done(j, "2"));
	assert_false(ku_journal_phase_done(j, "4.1"));
	assert_false(ku_journal_phase_done(j, "5"));
	assert_int_equal(ku_journal_state(j, "5", "kube-proxy", "cluster"),
	    KU_STATE_DONE);
	ku_journal_close(j);
}

/* kubeup down undid the install: a reset forgets what came before it, in
 * this process and when the journal is read again; later records count. */
static void
test_reset(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;

	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	assert_int_equal(ku_journal_mark(j, "run-start", NULL), KU_OK);
	assert_int_equal(ku_journal_mark_phase(j, "1", KU_STATE_DONE), KU_OK);
	assert_int_equal(ku_journal_record(j, "1", "connect", "master",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	assert_int_equal(ku_journal_mark(j, "reset", "down"), KU_OK);
	assert_false(ku_journal_phase_done(j, "1"));
	assert_int_equal(ku_journal_state(j, "1", "connect", "master"),
	    KU_STATE_PENDING);
	assert_int_equal(ku_journal_record(j, "1", "connect", "node-1",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	ku_journal_close(j);

	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	assert_false(ku_journal_phase_done(j, "1"));
	assert_int_equal(ku_journal_state(j, "1", "connect", "master"),
	    KU_STATE_PENDING);
	assert_int_equal(ku_journal_state(j, "1", "connect", "node-1"),
	    KU_STATE_DONE);
	assert_int_equal(ku_journal_runs(j), 1);
	ku_journal_close(j);
}

/* A run without --resume starts phase 4.2 again: "redo" forgets that
 * phase's records (4.2, not 4.1 nor a phase whose id starts the same),
 * in this process and when the journal is read again; later records of
 * the phase count. */
static void
test_redo_phase(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;

	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	assert_int_equal(ku_journal_mark(j, "run-start", NULL), KU_OK);
	assert_int_equal(ku_journal_record(j, "4.1", "kubelet", "node-1",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	assert_int_equal(ku_journal_mark_phase(j, "4.1", KU_STATE_DONE), KU_OK);
	assert_int_equal(ku_journal_record(j, "4.2", "test-pod", "node-1",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	assert_int_equal(ku_journal_record(j, "4.2", "check-pod-network",
	    "node-1", KU_STATE_DONE, KU_OK, NULL), KU_OK);
	assert_int_equal(ku_journal_record(j, "4.2x", "s", "node-1",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	assert_int_equal(ku_journal_mark_phase(j, "4.2", KU_STATE_DONE), KU_OK);
	assert_int_equal(ku_journal_mark(j, "run-start", NULL), KU_OK);
	assert_int_equal(ku_journal_mark(j, "redo", "4.2"), KU_OK);
	assert_false(ku_journal_phase_done(j, "4.2"));
	assert_int_equal(ku_journal_state(j, "4.2", "check-pod-network",
	    "node-1"), KU_STATE_PENDING);
	assert_true(ku_journal_phase_done(j, "4.1"));
	assert_int_equal(ku_journal_state(j, "4.1", "kubelet", "node-1"),
	    KU_STATE_DONE);
	assert_int_equal(ku_journal_state(j, "4.2x", "s", "node-1"),
	    KU_STATE_DONE);
	assert_int_equal(ku_journal_record(j, "4.2", "test-pod", "node-1",
	    KU_STATE_FAILED, KU_ERR_CHECK, "not ready"), KU_OK);
	ku_journal_close(j);

	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	assert_false(ku_journal_phase_done(j, "4.2"));
	assert_int_equal(ku_journal_state(j, "4.2", "test-pod", "node-1"),
	    KU_STATE_FAILED);
	assert_int_equal(ku_journal_state(j, "4.2", "check-pod-network",
	    "node-1"), KU_STATE_PENDING);
	assert_int_equal(ku_journal_state(j, "4.1", "kubelet", "node-1"),
	    KU_STATE_DONE);
	assert_int_equal(ku_journal_state(j, "4.2x", "s", "node-1"),
	    KU_STATE_DONE);
	assert_int_equal(ku_journal_runs(j), 2);
	ku_journal_close(j);
}

static void
test_many_records(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;
	size_t dropped = 99;
	char t[32];
	enum { N = 10000 };

	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	for (int i = 0; i < N; i++) {
		snprintf(t, sizeof t, "node-%d", i);
		assert_int_equal(ku_journal_record(j, i % 2 ? "4.1" : "1",
		    "s", t, i % 3 == 0 ? KU_STATE_FAILED : KU_STATE_DONE,
		    KU_OK, NULL), KU_OK);
	}
	ku_journal_close(j);

	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, 0);
	for (int i = 0; i < N; i++) {
		snprintf(t, sizeof t, "node-%d", i);
		assert_int_equal(ku_journal_state(j, i % 2 ? "4.1" : "1",
		    "s", t), i % 3 == 0 ? KU_STATE_FAILED : KU_STATE_DONE);
		/* ... and not under the other phase. */
		assert_int_equal(ku_journal_state(j, i % 2 ? "1" : "4.1",
		    "s", t), KU_STATE_PENDING);
	}
	ku_journal_close(j);
	{
		size_t len;
		char *data = slurp(f->path, &len);
		assert_int_equal(count_lines(data, len), N);
		free(data);
	}
}

/* Text that JSON must escape survives the round trip. */
static void
test_odd_strings(void **state)
{
	struct fx *f = *state;
	struct ku_journal *j = NULL;
	const char *target = "we\"ird\\name\n\t\x01";
	const char *msg = "line one\nline \"two\"\r\n\xc3\xa9t\xc3\xa9";
	size_t dropped = 99;

	assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
	assert_int_equal(ku_journal_record(j, "1", "s\037x", target,
	    KU_STATE_FAILED, KU_ERR_REMOTE, msg), KU_OK);
	ku_journal_close(j);
	j = NULL;
	assert_int_equal(ku_journal_open(f->path, &j, &dropped), KU_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(ku_journal_state(j, "1", "s\037x", target),
	    KU_STATE_FAILED);
	ku_journal_close(j);
}

/* A failure message can be long (a remote command's stderr): the state
 * change must still be recorded, since the engine stops the whole run
 * when a record cannot be written. */
static void
test_long_message(void **state)
{
	struct fx *f = *state;
	size_t n = 100 * 1024, dropped = 99;
	char *msg = f->scratch = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		msg[i] = (char)('a' + i % 26);
	msg[n] = '\0';
	assert_int_equal(ku_journal_open(f->path, &f->j, NULL), KU_OK);
	assert_int_equal(ku_journal_record(f->j, "1", "s", "t0",
	    KU_STATE_DONE, KU_OK, NULL), KU_OK);
	assert_int_equal(ku_journal_record(f->j, "3", "static-pods", "master",
	    KU_STATE_FAILED, KU_ERR_REMOTE, msg), KU_OK);
	assert_int_equal(ku_journal_state(f->j, "3", "static-pods", "master"),
	    KU_STATE_FAILED);
	ku_journal_close(f->j);
	f->j = NULL;
	assert_int_equal(ku_journal_open(f->path, &f->j, &dropped), KU_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(ku_journal_state(f->j, "3", "static-pods", "master"),
	    KU_STATE_FAILED);
	assert_int_equal(ku_journal_state(f->j, "1", "s", "t0"),
	    KU_STATE_DONE);
}

/* Records with a sound checksum whose JSON this journal does not expect
 * (another version wrote it, or a hand edit): dropped like damage, never a
 * crash. Each one is opened in a child process. */
static const char *const odd_records[] = {
	"{\"k\":null}",
	"{\"k\":\"state\",\"phase\":\"1\",\"substep\":\"s\",\"target\":\"x\","
	    "\"state\":null}",
	"{\"k\":\"state\",\"phase\":null,\"substep\":\"s\",\"target\":\"x\","
	    "\"state\":\"done\"}",
	"{\"k\":\"mark\",\"what\":null}",
	"{\"k\":\"phase\",\"phase\":\"1\",\"state\":\"finished\"}",
	"[1,2,3]",
	"\"state\"",
	"{\"k\":\"state\",\"phase\":\"1\"}",
};

struct odd_arg {
	const char *path;
	const char *json;
};

static int
odd_record_child(void *arg)
{
	const struct odd_arg *a = arg;
	struct ku_journal *j = NULL;
	size_t len, dropped = 0;
	char *data = three_records(a->path, &len);
	size_t end1 = end_of_line(data, len, 1);
	char sum[65];
	struct ku_buf b;
	int rc = 0;

	/* t0, the odd record, then t1 and t2. */
	ku_sha256_hex(a->json, strlen(a->json), sum);
	sum[16] = '\0';
	ku_buf_init(&b, 0);
	ku_buf_add(&b, data, end1);
	ku_buf_printf(&b, "%s %s\n", sum, a->json);
	ku_buf_add(&b, data + end1, len - end1);
	spit(a->path, b.data, b.len);

	if (ku_journal_open(a->path, &j, &dropped) != KU_OK)
		rc = 10;
	else if (dropped != b.len - end1)
		rc = 11;
	else if (ku_journal_state(j, "1", "s", "t0") != KU_STATE_DONE)
		rc = 12;
	else if (ku_journal_state(j, "1", "s", "t1") != KU_STATE_PENDING)
		rc = 13;
	else if (file_size(a->path) != (off_t)end1)
		rc = 14;
	ku_journal_close(j);
	ku_buf_free(&b);
	free(data);
	return rc;
}

static void
test_unexpected_json(void **state)
{
	struct fx *f = *state;

	struct ku_buf bad;

	/* Every case is tried; the failure names each one that went wrong. */
	ku_buf_init(&bad, 0);
	for (size_t i = 0; i < KU_ARRAY_LEN(odd_records); i++) {
		struct odd_arg a = { f->path, odd_records[i] };
		int st = tl_in_child(odd_record_child, &a);
		if (WIFSIGNALED(st))
			ku_buf_printf(&bad, "\n#   %s: killed by signal %d",
			    odd_records[i], WTERMSIG(st));
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			ku_buf_printf(&bad, "\n#   %s: check %d failed",
			    odd_records[i], WEXITSTATUS(st));
	}
	if (bad.len) {
		f->scratch = ku_buf_steal(&bad);   /* teardown frees it */
		fail_msg("records with a sound checksum and unexpected JSON "
		    "were not dropped cleanly:%s", f->scratch);
	}
	ku_buf_free(&bad);
}

/* --- kill -9 at a random moment --- */

static void
crash_child(const char *path, int fd_ready)
{
	struct ku_journal *j = NULL;
	char target[32], msg[32];

	if (ku_journal_open(path, &j, NULL) != KU_OK)
		_exit(2);
	/* Tell the parent the journal is open, then write until killed. */
	if (write(fd_ready, "r", 1) != 1)
		_exit(3);
	for (int i = 0; i < 1000000; i++) {
		snprintf(target, sizeof target, "t%d", i);
		snprintf(msg, sizeof msg, "%d", i);
		if (ku_journal_record(j, "1", "s", target, KU_STATE_DONE,
		    KU_OK, msg) != KU_OK)
			_exit(4);
	}
	_exit(5);
}

/* Every line of the file is a whole record, the n-th numbered n. Returns
 * the count. With torn_ok, an unfinished last line (a write cut by the
 * kill) is left out; without, there must be none. */
static int
check_prefix(const char *path, bool torn_ok)
{
	size_t len;
	char *data = slurp(path, &len);
	char *line = data;
	int n = 0;

	if (len > 0 && !torn_ok)
		assert_int_equal(data[len - 1], '\n');
	while (line < data + len) {
		char *nl = strchr(line, '\n');
		struct json_object *o, *v;
		char sum[65];

		if (nl == NULL && torn_ok)
			break;
		assert_non_null(nl);
		*nl = '\0';
		assert_true(nl - line > 17);
		ku_sha256_hex(line + 17, (size_t)(nl - line - 17), sum);
		assert_memory_equal(sum, line, 16);
		o = json_tokener_parse(line + 17);
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "msg", &v));
		assert_int_equal(atoi(json_object_get_string(v)), n);
		json_object_put(o);
		n++;
		line = nl + 1;
	}
	free(data);
	return n;
}

static void
test_kill9(void **state)
{
	struct fx *f = *state;
	unsigned seed = (unsigned)getpid() ^ (unsigned)ku_now_ms();
	int total = 0;

	for (int iter = 0; iter < 12; iter++) {
		struct ku_journal *j = NULL;
		int pipefd[2], status, before, after;
		char c;
		pid_t pid;
		char t[32];

		unlink(f->path);
		assert_int_equal(pipe(pipefd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pipefd[0]);
			crash_child(f->path, pipefd[1]);
		}
		close(pipefd[1]);
		assert_int_equal(read(pipefd[0], &c, 1), 1);
		close(pipefd[0]);
		/* 0..40 ms of writing: from nothing to a few hundred
		 * records. */
		tl_sleep_ms((long)(rand_r(&seed) % 41));
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);

		before = check_prefix(f->path, true);
		assert_int_equal(ku_journal_open(f->path, &j, NULL), KU_OK);
		after = check_prefix(f->path, false);
		/* Nothing sound was dropped. */
		assert_int_equal(after, before);
		for (int i = 0; i < after; i++) {
			snprintf(t, sizeof t, "t%d", i);
			assert_int_equal(ku_journal_state(j, "1", "s", t),
			    KU_STATE_DONE);
		}
		snprintf(t, sizeof t, "t%d", after);
		assert_int_equal(ku_journal_state(j, "1", "s", t),
		    KU_STATE_PENDING);
		ku_journal_close(j);
		total += after;
	}
	print_message("# kill -9: %d records across 12 crashes\n", total);
}

/* A torn write in the middle of any record: every cut point of the last
 * record leaves the others. */
static void
test_every_cut(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *data = three_records(f->path, &len);
	size_t end2 = end_of_line(data, len, 2);

	for (size_t cut = end2; cut < len; cut++) {
		struct ku_journal *j = NULL;
		size_t dropped = 99;
		spit(f->path, data, cut);
		assert_int_equal(ku_journal_open(f->path, &j, &dropped),
		    KU_OK);
		assert_int_equal(dropped, cut - end2);
		assert_int_equal(file_size(f->path), (off_t)end2);
		assert_int_equal(ku_journal_state(j, "1", "s", "t1"),
		    KU_STATE_DONE);
		assert_int_equal(ku_journal_state(j, "1", "s", "t2"),
		    KU_STATE_PENDING);
		ku_journal_close(j);
	}
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_survive_close_open,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redo_phase, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_last_state_wins, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_every_cut, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flipped_checksum, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flipped_json, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flipped_separator, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unopenable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_phase_markers_and_runs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_records, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_odd_strings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_message, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unexpected_json, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
	};

	tl_watchdog(300);
	tl_filter_from_env();
	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
