/* Quoting for POSIX sh, script building, and checks of names and paths. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "shell.h"

void
ku_script_word(struct ku_buf *b, const char *s)
{
	const char *p = s, *q;

	ku_buf_addc(b, '\'');
	/* Inside single quotes every byte is literal except the quote
	 * itself, which ends the quoting: close, add an escaped quote,
	 * reopen. */
	while ((q = strchr(p, '\'')) != NULL) {
		ku_buf_add(b, p, (size_t)(q - p));
		ku_buf_adds(b, "'\\''");
		p = q + 1;
	}
	ku_buf_adds(b, p);
	ku_buf_addc(b, '\'');
}

char *
ku_sh_quote(const char *s)
{
	struct ku_buf b;

	ku_buf_init(&b, 0);
	ku_script_word(&b, s);
	return ku_buf_steal(&b);
}

void
ku_script_cmdv(struct ku_buf *b, const char *const *argv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			ku_buf_addc(b, ' ');
		ku_script_word(b, argv[i]);
	}
	ku_buf_addc(b, '\n');
}

void
ku_script_cmd(struct ku_buf *b, const char *argv0, ...)
{
	va_list ap;
	const char *arg;

	ku_script_word(b, argv0);
	va_start(ap, argv0);
	while ((arg = va_arg(ap, const char *)) != NULL) {
		ku_buf_addc(b, ' ');
		ku_script_word(b, arg);
	}
	va_end(ap);
	ku_buf_addc(b, '\n');
}

void
ku_script_raw_text(struct ku_buf *b, const char *fixed_text)
{
	ku_buf_adds(b, fixed_text);
}

static bool
ku_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The label of len bytes at s. */
static bool
ku_valid_label_n(const char *s, size_t len)
{
	if (len < 1 || len > 63)
		return false;
	if (!ku_label_char(s[0]) || !ku_label_char(s[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!ku_label_char(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool
ku_valid_dns_label(const char *s)
{
	return s != NULL && ku_valid_label_n(s, strlen(s));
}

bool
ku_valid_hostname(const char *s)
{
	size_t len;
	const char *p, *dot;

	if (s == NULL)
		return false;
	len = strlen(s);
	if (len < 1 || len > 253)
		return false;
	for (p = s; ; p = dot + 1) {
		dot = strchr(p, '.');
		if (!ku_valid_label_n(p, dot ? (size_t)(dot - p) : strlen(p)))
			return false;
		if (dot == NULL)
			return true;
	}
}

bool
ku_valid_remote_path(const char *s)
{
	size_t len;
	const char *p, *slash;

	if (s == NULL || s[0] != '/')
		return false;
	len = strlen(s);
	if (len > 4095)
		return false;
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	if (len == 1)
		return false;  /* "/" itself names no file */
	for (p = s + 1; ; p = slash + 1) {
		size_t n;

		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0)
			return false;   /* "//" or a trailing "/" */
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (slash == NULL)
			return true;
	}
}
