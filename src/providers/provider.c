#include "config.h"

#include "engine.h"
#include "i18n.h"
#include "log.h"
#include "provider.h"
#include "render.h"

/* Captured output of one remote command, at most this much of each. */
#define KU_EXEC_OUTPUT_MAX (1024 * 1024)

const struct ku_provider *
ku_provider_get(enum ku_provider_type type)
{
	switch (type) {
	case KU_PROVIDER_SSH:
		return &ku_provider_ssh;
	}
	return &ku_provider_ssh;
}

void
ku_exec_result_init(struct ku_exec_result *res)
{
	res->exit_status = -1;
	ku_buf_init(&res->out, KU_EXEC_OUTPUT_MAX);
	ku_buf_init(&res->err, KU_EXEC_OUTPUT_MAX);
}

void
ku_exec_result_free(struct ku_exec_result *res)
{
	ku_buf_free(&res->out);
	ku_buf_free(&res->err);
}

static const struct ku_machine *
ku_task_require_machine(struct ku_task *task)
{
	const struct ku_machine *m = ku_task_machine(task);
	if (m == NULL)
		ku_task_fail(task, KU_ERR_INVALID,
		    _("%s/%s has no machine to run on"),
		    ku_task_phase(task), ku_task_substep(task));
	return m;
}

ku_rc
ku_task_exec(struct ku_task *task, const char *script,
    struct ku_exec_result *res)
{
	const struct ku_machine *m = ku_task_require_machine(task);
	if (m == NULL)
		return KU_ERR_INVALID;
	return ku_provider_get(ku_task_spec(task)->provider)->exec(task, m,
	    script, res);
}

ku_rc
ku_task_upload(struct ku_task *task, const char *local_path,
    const char *remote_path, mode_t mode, bool *changed)
{
	const struct ku_machine *m = ku_task_require_machine(task);
	if (m == NULL)
		return KU_ERR_INVALID;
	return ku_provider_get(ku_task_spec(task)->provider)->upload(task, m,
	    local_path, remote_path, mode, changed);
}

ku_rc
ku_task_place(struct ku_task *task, const void *data, size_t len,
    const char *remote_path, mode_t mode, bool *changed)
{
	const struct ku_machine *m = ku_task_require_machine(task);
	if (m == NULL)
		return KU_ERR_INVALID;
	return ku_provider_get(ku_task_spec(task)->provider)->place(task, m,
	    data, len, remote_path, mode, changed);
}

const struct ku_deploy *
ku_task_deploy(const struct ku_task *task)
{
	return ku_task_user(task);
}

ku_rc
ku_task_place_rendered(struct ku_task *task, const char *path,
    bool *changed)
{
	const struct ku_deploy *d = ku_task_deploy(task);
	const struct ku_rendered_file *f = d && d->files ?
	    ku_render_find(d->files, ku_task_target(task), path) : NULL;
	bool placed = false;
	ku_rc rc;

	if (f == NULL)
		return ku_task_fail(task, KU_ERR_TEMPLATE,
		    _("%s: no rendered %s for this machine"),
		    ku_task_target(task), path);
	rc = ku_task_place(task, f->content, f->len, f->path, f->mode,
	    &placed);
	if (rc != KU_OK)
		return rc;
	ku_task_log(task, KU_LOG_INFO, "%s: %s", f->path,
	    placed ? "placed" : "unchanged");
	if (changed)
		*changed = placed;
	return KU_OK;
}
