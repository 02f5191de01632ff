/* One log file per run. Each line: time, level, phase, substep, target,
 * message. Thread-safe. Registered secrets are replaced by "[redacted]"
 * in every line before it is written. */
#ifndef KU_LOG_H
#define KU_LOG_H

#include "util.h"

enum ku_log_level { KU_LOG_DEBUG, KU_LOG_INFO, KU_LOG_WARN, KU_LOG_ERROR };

struct ku_log;

/* Opens (creates, mode 0600, appending) the log at path. */
ku_rc ku_log_open(const char *path, struct ku_log **out);
void ku_log_close(struct ku_log *log);
const char *ku_log_path(const struct ku_log *log);

/* A value that must never reach the log (a password, a token). Copied. */
void ku_log_add_secret(struct ku_log *log, const char *secret);

/* phase, substep and target may be NULL ("-"). Multi-line messages are
 * written one line each, with the same prefix. log may be NULL. */
void ku_log(struct ku_log *log, enum ku_log_level level, const char *phase,
    const char *substep, const char *target, const char *fmt, ...)
    KU_PRINTF(6, 7);
void ku_logv(struct ku_log *log, enum ku_log_level level, const char *phase,
    const char *substep, const char *target, const char *fmt, va_list ap)
    KU_PRINTF(6, 0);

#endif
