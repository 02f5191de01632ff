/* The batch front end: events as lines (for people, or JSON for
 * pipelines), decisions from the answers' policy. */
#ifndef KU_BATCH_H
#define KU_BATCH_H

#include <stdbool.h>
#include <stdio.h>

#include "events.h"
#include "spec.h"

enum ku_events_format { KU_EVENTS_HUMAN, KU_EVENTS_JSON };

struct ku_batch {
	FILE *out;
	enum ku_events_format format;
	enum ku_on_failure on_failure;
	bool verbose;
};

/* A front end that writes to b->out and decides by b->on_failure. */
void ku_batch_frontend(struct ku_batch *b, struct ku_frontend *fe);

#endif
