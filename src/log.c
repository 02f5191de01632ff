#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct ku_log {
	pthread_mutex_t lock;
	int fd;
	char *path;
	struct ku_strv secrets;
};

static const char *const ku_level_names[] = {
	[KU_LOG_DEBUG] = "debug",
	[KU_LOG_INFO] = "info",
	[KU_LOG_WARN] = "warn",
	[KU_LOG_ERROR] = "error",
};

ku_rc
ku_log_open(const char *path, struct ku_log **out)
{
	struct ku_log *log;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		return KU_ERR_IO;
	log = xcalloc(1, sizeof *log);
	pthread_mutex_init(&log->lock, NULL);
	log->fd = fd;
	log->path = xstrdup(path);
	*out = log;
	return KU_OK;
}

void
ku_log_close(struct ku_log *log)
{
	if (log == NULL)
		return;
	close(log->fd);
	pthread_mutex_destroy(&log->lock);
	ku_strv_free(&log->secrets);
	free(log->path);
	free(log);
}

const char *
ku_log_path(const struct ku_log *log)
{
	return log->path;
}

void
ku_log_add_secret(struct ku_log *log, const char *secret)
{
	if (log == NULL || secret == NULL || secret[0] == '\0')
		return;
	pthread_mutex_lock(&log->lock);
	if (!ku_strv_contains(&log->secrets, secret))
		ku_strv_push(&log->secrets, secret);
	pthread_mutex_unlock(&log->lock);
}

/* Replaces every occurrence of every secret in the buffer. Called with the
 * lock held. */
static void
ku_log_redact(const struct ku_log *log, struct ku_buf *line)
{
	for (size_t i = 0; i < log->secrets.n; i++) {
		const char *secret = log->secrets.v[i];
		size_t slen = strlen(secret);
		char *hit;
		struct ku_buf out;

		if (strstr(line->data, secret) == NULL)
			continue;
		ku_buf_init(&out, 0);
		const char *p = line->data;
		while ((hit = strstr(p, secret)) != NULL) {
			ku_buf_add(&out, p, (size_t)(hit - p));
			ku_buf_adds(&out, "[redacted]");
			p = hit + slen;
		}
		ku_buf_adds(&out, p);
		ku_buf_free(line);
		*line = out;
	}
}

static void
ku_write_line(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a full disk must not stop the install */
		s += n;
		len -= (size_t)n;
	}
}

void
ku_logv(struct ku_log *log, enum ku_log_level level, const char *phase,
    const char *substep, const char *target, const char *fmt, va_list ap)
{
	char when[40];
	char *msg;
	const char *line, *nl;
	struct ku_buf out;

	if (log == NULL)
		return;
	msg = xvasprintf(fmt, ap);
	ku_format_time(ku_wall_ms(), when, sizeof when);
	ku_buf_init(&out, 0);
	line = msg;
	do {
		nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len == 0 && nl == NULL && line != msg)
			break;
		ku_buf_printf(&out, "%s %-5s [%s] [%s] [%s] ", when,
		    ku_level_names[level], phase ? phase : "-",
		    substep ? substep : "-", target ? target : "-");
		ku_buf_add(&out, line, len);
		ku_buf_addc(&out, '\n');
		line = nl ? nl + 1 : NULL;
	} while (line && *line);
	free(msg);

	pthread_mutex_lock(&log->lock);
	ku_log_redact(log, &out);
	ku_write_line(log->fd, out.data, out.len);
	pthread_mutex_unlock(&log->lock);
	ku_buf_free(&out);
}

void
ku_log(struct ku_log *log, enum ku_log_level level, const char *phase,
    const char *substep, const char *target, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ku_logv(log, level, phase, substep, target, fmt, ap);
	va_end(ap);
}
