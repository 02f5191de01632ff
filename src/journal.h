/* The journal: what has happened to every target of every substep, across
 * runs. Append-only, one checksummed record a line, each fsync'd before the
 * call returns, so kill -9 at any moment leaves a readable journal (a torn
 * last record is dropped when it is next opened).
 *
 * Record: "<16 hex: first 8 bytes of the SHA-256 of the JSON> <JSON>\n".
 */
#ifndef KU_JOURNAL_H
#define KU_JOURNAL_H

#include <stdint.h>

#include "events.h"
#include "util.h"

struct ku_journal;

/* Opens or creates the journal at path (mode 0600). Records after the
 * first damaged one are dropped and the file truncated there; *dropped
 * (may be NULL) tells how many bytes were dropped. */
ku_rc ku_journal_open(const char *path, struct ku_journal **out,
    size_t *dropped);
void ku_journal_close(struct ku_journal *j);

/* Appends a record of a target's new state and waits for it to be on disk.
 * message may be NULL. Thread-safe. */
ku_rc ku_journal_record(struct ku_journal *j, const char *phase,
    const char *substep, const char *target, enum ku_state state, ku_rc err,
    const char *message);
/* Appends a run marker ("run-start", "run-end") with a note. "reset"
 * forgets every state recorded before it (kubeup down undid them);
 * "redo", with a phase's id as its note, forgets that phase's (a run
 * without --resume does it again). */
ku_rc ku_journal_mark(struct ku_journal *j, const char *what,
    const char *note);

/* The last recorded state (KU_STATE_PENDING when none). */
enum ku_state ku_journal_state(const struct ku_journal *j, const char *phase,
    const char *substep, const char *target);
/* True when a phase was recorded as finished (done or skipped targets only). */
bool ku_journal_phase_done(const struct ku_journal *j, const char *phase);
ku_rc ku_journal_mark_phase(struct ku_journal *j, const char *phase,
    enum ku_state state);
/* Number of runs started (run-start markers). */
unsigned ku_journal_runs(const struct ku_journal *j);

#endif
