/* Remote shell text: the one place that quotes, and the checks made on
 * names and paths before anything connects.
 *
 * Every value that reaches a remote command line or script goes through
 * ku_sh_quote() (or ku_script_word()/ku_script_cmd(), which call it): POSIX
 * single quotes, a ' written as '\''. The result is one word for any POSIX
 * shell (dash, bash, busybox sh, zsh in sh mode), whatever the value holds:
 * $(...), backquotes, ;, newlines, backslashes, non-ASCII bytes, nothing.
 * A NUL cannot be passed (C strings), so nothing is refused.
 *
 * A script is built in a struct ku_buf from two kinds of pieces only:
 *   ku_script_cmd(b, "install", "-m", "0644", src, dst, NULL);
 *       one command line, every word quoted;
 *   ku_script_raw(b, "set -e\n");
 *       kubeup's own fixed shell text. It is a macro that accepts only a
 *       string literal, so a value can never be pasted in by mistake; text
 *       from a table or a template goes through ku_script_raw_text(), whose
 *       name says what the caller vouches for.
 */
#ifndef KU_SHELL_H
#define KU_SHELL_H

#include <stdbool.h>

#include "util.h"

/* s as one single-quoted shell word: "it's" -> 'it'\''s'. Caller frees. */
char *ku_sh_quote(const char *s);

/* Appends ku_sh_quote(s) to b. */
void ku_script_word(struct ku_buf *b, const char *s);

/* Appends one command line: argv0 and the NULL-terminated arguments after
 * it, each quoted, separated by spaces, ending in a newline. */
void ku_script_cmd(struct ku_buf *b, const char *argv0, ...)
    __attribute__((sentinel));
/* The same from an array of n words. */
void ku_script_cmdv(struct ku_buf *b, const char *const *argv, size_t n);

/* Appends fixed shell text that belongs to kubeup (never a value). */
void ku_script_raw_text(struct ku_buf *b, const char *fixed_text);
/* Only a string literal compiles here ("" x "" is a literal only when x
 * is one). */
#define ku_script_raw(b, fixed_text) ku_script_raw_text((b), "" fixed_text "")

/* A DNS-1123 subdomain as Kubernetes requires of node names and host names:
 * dot-separated labels of 1 to 63 characters from [a-z0-9-], each starting
 * and ending with a letter or digit, 253 characters at most. */
bool ku_valid_hostname(const char *s);
/* One DNS-1123 label (no dots). */
bool ku_valid_dns_label(const char *s);

/* A path kubeup may place a file at or run a command on: absolute, at most
 * 4095 bytes, not "/" itself, no control character (so no newline), no
 * "." or ".." component, no empty component ("//"), no trailing slash.
 * Spaces, quotes, $ and non-ASCII are allowed: they are quoted where
 * used. */
bool ku_valid_remote_path(const char *s);

#endif
