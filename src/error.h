/* kubeup's one error type.
 *
 * Every fallible function returns a ku_rc; KU_OK is zero. The table is an
 * X-macro so that the enum and its messages can never drift apart. Append
 * only: codes are written to the journal and to JSON events.
 *
 * Codes of the libraries (libssh2, libcurl, OpenSSL, libconfig) are translated
 * where those libraries are called and never travel further.
 */
#ifndef KU_ERROR_H
#define KU_ERROR_H

#define KU_ERRORS(X)                                                        \
	X(KU_OK,                 "ok",              N_("success"))              \
	X(KU_ERR_NOMEM,          "nomem",           N_("out of memory"))        \
	X(KU_ERR_INVALID,        "invalid",         N_("invalid argument"))     \
	X(KU_ERR_IO,             "io",              N_("input/output error"))   \
	X(KU_ERR_NOT_IMPLEMENTED,"not-implemented", N_("not implemented yet"))  \
	X(KU_ERR_ANSWERS,        "answers",         N_("invalid answers"))      \
	X(KU_ERR_JOURNAL,        "journal",         N_("journal is unusable"))  \
	X(KU_ERR_TIMEOUT,        "timeout",         N_("timed out"))            \
	X(KU_ERR_CONNECT,        "connect",         N_("cannot connect"))       \
	X(KU_ERR_HOSTKEY,        "hostkey",         N_("host key not trusted")) \
	X(KU_ERR_AUTH,           "auth",            N_("authentication failed"))\
	X(KU_ERR_REMOTE,         "remote",          N_("remote command failed"))\
	X(KU_ERR_CHECKSUM,       "checksum",        N_("checksum mismatch"))    \
	X(KU_ERR_ABORTED,        "aborted",         N_("aborted"))              \
	X(KU_ERR_INTERRUPTED,    "interrupted",     N_("interrupted"))          \
	X(KU_ERR_PREREQ,         "prerequisite",    N_("prerequisite missing")) \
	X(KU_ERR_STATE,          "state",           N_("state directory problem")) \
	X(KU_ERR_TEMPLATE,       "template",        N_("template error"))       \
	X(KU_ERR_CHECK,          "check-failed",    N_("check failed"))        \
	X(KU_ERR_TLS,            "tls",             N_("certificate not trusted")) \
	X(KU_ERR_HOSTKEY_UNKNOWN,"hostkey-unknown", N_("host key unknown"))

typedef enum {
#define KU_X_ENUM(sym, id, msg) sym,
	KU_ERRORS(KU_X_ENUM)
#undef KU_X_ENUM
	KU_ERR__COUNT
} ku_rc;

/* The operator's message, translated. */
const char *ku_strerror(ku_rc rc);
/* A stable identifier for machines (journal, JSON events): "timeout". */
const char *ku_error_id(ku_rc rc);

#endif
