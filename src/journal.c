#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "journal.h"

/* A record's key in the state table: "phase\037substep\037target" for a
 * target, "phase" alone for a phase marker. */
struct ku_jentry {
	char *key;
	enum ku_state state;
};

struct ku_journal {
	pthread_mutex_t lock;
	int fd;
	char *path;
	/* Open addressing, linear probing; capacity a power of two. */
	struct ku_jentry *tab;
	size_t cap;
	size_t used;
	unsigned runs;
};

#define KU_JOURNAL_MAX_RECORD 65536
#define KU_SUM_LEN 16
/* A failure's message is kept whole in the log; the journal keeps this
 * much of it, so that records stay small. */
#define KU_JOURNAL_MAX_MESSAGE 4096

static uint64_t
ku_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void ku_table_put(struct ku_journal *j, char *key, enum ku_state st);

static void
ku_table_grow(struct ku_journal *j)
{
	struct ku_jentry *old = j->tab;
	size_t oldcap = j->cap;

	j->cap = oldcap ? oldcap * 2 : 256;
	j->tab = xcalloc(j->cap, sizeof *j->tab);
	j->used = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			ku_table_put(j, old[i].key, old[i].state);
	free(old);
}

/* Takes ownership of key. */
static void
ku_table_put(struct ku_journal *j, char *key, enum ku_state st)
{
	size_t i;

	if ((j->used + 1) * 4 >= j->cap * 3)
		ku_table_grow(j);
	for (i = ku_hash(key) & (j->cap - 1); j->tab[i].key;
	    i = (i + 1) & (j->cap - 1)) {
		if (strcmp(j->tab[i].key, key) == 0) {
			j->tab[i].state = st;
			free(key);
			return;
		}
	}
	j->tab[i].key = key;
	j->tab[i].state = st;
	j->used++;
}

/* After a reset (kubeup down undid the install) nothing is finished. */
static void
ku_table_clear(struct ku_journal *j)
{
	for (size_t i = 0; i < j->cap; i++) {
		free(j->tab[i].key);
		j->tab[i].key = NULL;
	}
	j->used = 0;
}

static int
ku_table_get(const struct ku_journal *j, const char *key)
{
	if (j->cap == 0)
		return -1;
	for (size_t i = ku_hash(key) & (j->cap - 1); j->tab[i].key;
	    i = (i + 1) & (j->cap - 1))
		if (strcmp(j->tab[i].key, key) == 0)
			return (int)j->tab[i].state;
	return -1;
}

static char *
ku_target_key(const char *phase, const char *substep, const char *target)
{
	return xasprintf("%s\037%s\037%s", phase, substep, target);
}

static char *
ku_phase_key(const char *phase)
{
	return xasprintf("phase\037%s", phase);
}

/* After a "redo" mark (a run without --resume starts the phase again),
 * nothing an earlier run recorded for the phase counts: a substep that
 * run does not reach is not finished. Entries stay, as pending, which
 * ku_journal_state() also gives for none. */
static void
ku_table_forget_phase(struct ku_journal *j, const char *phase)
{
	size_t plen = strlen(phase);
	char *pkey = ku_phase_key(phase);

	for (size_t i = 0; i < j->cap; i++) {
		const char *k = j->tab[i].key;

		if (k && ((strncmp(k, phase, plen) == 0 && k[plen] == '\037') ||
		    strcmp(k, pkey) == 0))
			j->tab[i].state = KU_STATE_PENDING;
	}
	free(pkey);
}

static void
ku_checksum(const char *json, size_t len, char out[KU_SUM_LEN + 1])
{
	char hex[65];
	ku_sha256_hex(json, len, hex);
	memcpy(out, hex, KU_SUM_LEN);
	out[KU_SUM_LEN] = '\0';
}

/* A member that must be a JSON string; NULL otherwise. */
static const char *
ku_jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Applies one record's JSON to the table. False when it is not a record
 * this journal understands. */
static bool
ku_journal_apply(struct ku_journal *j, const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	const char *kind, *phase, *state, *substep, *target, *what;
	bool ok = false;
	int st;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	kind = ku_jstr(o, "k");
	if (kind == NULL)
		goto out;
	if (strcmp(kind, "state") == 0 || strcmp(kind, "phase") == 0) {
		phase = ku_jstr(o, "phase");
		state = ku_jstr(o, "state");
		if (phase == NULL || state == NULL ||
		    (st = ku_state_parse(state)) < 0)
			goto out;
		if (kind[0] == 'p') {
			ku_table_put(j, ku_phase_key(phase), (enum ku_state)st);
		} else {
			substep = ku_jstr(o, "substep");
			target = ku_jstr(o, "target");
			if (substep == NULL || target == NULL)
				goto out;
			ku_table_put(j, ku_target_key(phase, substep, target),
			    (enum ku_state)st);
		}
		ok = true;
	} else if (strcmp(kind, "mark") == 0) {
		what = ku_jstr(o, "what");
		if (what == NULL)
			goto out;
		if (strcmp(what, "run-start") == 0)
			j->runs++;
		else if (strcmp(what, "reset") == 0)
			ku_table_clear(j);
		else if (strcmp(what, "redo") == 0) {
			const char *note = ku_jstr(o, "note");
			if (note == NULL)
				goto out;
			ku_table_forget_phase(j, note);
		}
		ok = true;
	}
out:
	json_object_put(o);
	return ok;
}

/* Reads every sound record; returns the offset just past the last one. */
static off_t
ku_journal_load(struct ku_journal *j, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const char *line = data + off;
		const char *nl = memchr(line, '\n', len - off);
		char sum[KU_SUM_LEN + 1];
		size_t llen;

		if (nl == NULL)
			break;                  /* torn last record */
		llen = (size_t)(nl - line);
		if (llen < KU_SUM_LEN + 2 || line[KU_SUM_LEN] != ' ' ||
		    llen > KU_JOURNAL_MAX_RECORD)
			break;
		ku_checksum(line + KU_SUM_LEN + 1, llen - KU_SUM_LEN - 1, sum);
		if (memcmp(sum, line, KU_SUM_LEN) != 0)
			break;
		char *json = xstrndup(line + KU_SUM_LEN + 1,
		    llen - KU_SUM_LEN - 1);
		bool ok = ku_journal_apply(j, json);
		free(json);
		if (!ok)
			break;
		off += llen + 1;
	}
	return (off_t)off;
}

ku_rc
ku_journal_open(const char *path, struct ku_journal **out, size_t *dropped)
{
	struct ku_journal *j;
	struct ku_buf data;
	off_t good;
	ku_rc rc;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return KU_ERR_IO;
	j = xcalloc(1, sizeof *j);
	pthread_mutex_init(&j->lock, NULL);
	j->fd = fd;
	j->path = xstrdup(path);

	ku_buf_init(&data, 0);
	rc = ku_read_file(path, 0, &data);
	if (rc != KU_OK)
		goto fail;
	good = ku_journal_load(j, data.data ? data.data : "", data.len);
	if (dropped)
		*dropped = data.len - (size_t)good;
	if ((size_t)good != data.len) {
		/* Whatever follows the last sound record never completed. */
		if (ftruncate(fd, good) != 0 || fsync(fd) != 0) {
			rc = KU_ERR_IO;
			goto fail;
		}
	}
	ku_buf_free(&data);
	*out = j;
	return KU_OK;
fail:
	ku_buf_free(&data);
	ku_journal_close(j);
	return rc;
}

void
ku_journal_close(struct ku_journal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	for (size_t i = 0; i < j->cap; i++)
		free(j->tab[i].key);
	free(j->tab);
	free(j->path);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* Writes one record and waits for the disk. Called with the lock held. */
static ku_rc
ku_journal_append(struct ku_journal *j, struct json_object *o)
{
	const char *json;
	char sum[KU_SUM_LEN + 1];
	struct ku_buf line;
	size_t len, off = 0;
	ku_rc rc = KU_OK;

	json_object_object_add(o, "t", json_object_new_int64(
	    (int64_t)ku_wall_ms()));
	json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(json);
	if (len > KU_JOURNAL_MAX_RECORD - KU_SUM_LEN - 1)
		return KU_ERR_INVALID;
	ku_checksum(json, len, sum);
	ku_buf_init(&line, 0);
	ku_buf_printf(&line, "%s %s\n", sum, json);
	/* One write(2) of one line with O_APPEND: records never interleave. */
	while (off < line.len) {
		ssize_t n = write(j->fd, line.data + off, line.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = KU_ERR_JOURNAL;
			break;
		}
		off += (size_t)n;
	}
	if (rc == KU_OK && fdatasync(j->fd) != 0)
		rc = KU_ERR_JOURNAL;
	ku_buf_free(&line);
	return rc;
}

ku_rc
ku_journal_record(struct ku_journal *j, const char *phase,
    const char *substep, const char *target, enum ku_state state, ku_rc err,
    const char *message)
{
	struct json_object *o = json_object_new_object();
	ku_rc rc;

	json_object_object_add(o, "k", json_object_new_string("state"));
	json_object_object_add(o, "phase", json_object_new_string(phase));
	json_object_object_add(o, "substep", json_object_new_string(substep));
	json_object_object_add(o, "target", json_object_new_string(target));
	json_object_object_add(o, "state",
	    json_object_new_string(ku_state_name(state)));
	if (err != KU_OK)
		json_object_object_add(o, "error",
		    json_object_new_string(ku_error_id(err)));
	if (message) {
		size_t len = strnlen(message, KU_JOURNAL_MAX_MESSAGE);
		/* Not in the middle of a UTF-8 sequence. */
		if (message[len] != '\0')
			while (len > 0 && ((unsigned char)message[len] &
			    0xC0) == 0x80)
				len--;
		json_object_object_add(o, "msg",
		    json_object_new_string_len(message, (int)len));
	}
	pthread_mutex_lock(&j->lock);
	rc = ku_journal_append(j, o);
	if (rc == KU_OK)
		ku_table_put(j, ku_target_key(phase, substep, target), state);
	pthread_mutex_unlock(&j->lock);
	json_object_put(o);
	return rc;
}

ku_rc
ku_journal_mark_phase(struct ku_journal *j, const char *phase,
    enum ku_state state)
{
	struct json_object *o = json_object_new_object();
	ku_rc rc;

	json_object_object_add(o, "k", json_object_new_string("phase"));
	json_object_object_add(o, "phase", json_object_new_string(phase));
	json_object_object_add(o, "state",
	    json_object_new_string(ku_state_name(state)));
	pthread_mutex_lock(&j->lock);
	rc = ku_journal_append(j, o);
	if (rc == KU_OK)
		ku_table_put(j, ku_phase_key(phase), state);
	pthread_mutex_unlock(&j->lock);
	json_object_put(o);
	return rc;
}

ku_rc
ku_journal_mark(struct ku_journal *j, const char *what, const char *note)
{
	struct json_object *o = json_object_new_object();
	ku_rc rc;

	json_object_object_add(o, "k", json_object_new_string("mark"));
	json_object_object_add(o, "what", json_object_new_string(what));
	if (note)
		json_object_object_add(o, "note", json_object_new_string(note));
	pthread_mutex_lock(&j->lock);
	rc = ku_journal_append(j, o);
	if (rc == KU_OK && strcmp(what, "run-start") == 0)
		j->runs++;
	else if (rc == KU_OK && strcmp(what, "reset") == 0)
		ku_table_clear(j);
	else if (rc == KU_OK && strcmp(what, "redo") == 0 && note)
		ku_table_forget_phase(j, note);
	pthread_mutex_unlock(&j->lock);
	json_object_put(o);
	return rc;
}

enum ku_state
ku_journal_state(const struct ku_journal *j, const char *phase,
    const char *substep, const char *target)
{
	char *key = ku_target_key(phase, substep, target);
	int st;

	pthread_mutex_lock((pthread_mutex_t *)&j->lock);
	st = ku_table_get(j, key);
	pthread_mutex_unlock((pthread_mutex_t *)&j->lock);
	free(key);
	return st < 0 ? KU_STATE_PENDING : (enum ku_state)st;
}

bool
ku_journal_phase_done(const struct ku_journal *j, const char *phase)
{
	char *key = ku_phase_key(phase);
	int st;

	pthread_mutex_lock((pthread_mutex_t *)&j->lock);
	st = ku_table_get(j, key);
	pthread_mutex_unlock((pthread_mutex_t *)&j->lock);
	free(key);
	return st == KU_STATE_DONE;
}

unsigned
ku_journal_runs(const struct ku_journal *j)
{
	return j->runs;
}
