/* The files kubeup places on machines and applies to the cluster, rendered
 * from templates/ for one spec. --dry-run writes them to a folder; later
 * phases upload or apply them. */
#ifndef KU_RENDER_H
#define KU_RENDER_H

#include <sys/types.h>

#include "spec.h"

struct ku_rendered_file {
	char *target;     /* "cluster" or a machine's name */
	char *path;       /* absolute path on the machine, or for "cluster"
	                     a relative one ("addons/coredns.yaml") */
	char *template;   /* the template it came from */
	mode_t mode;
	char *content;
	size_t len;
};

struct ku_render_set {
	struct ku_rendered_file *v;
	size_t n;
	size_t cap;
};

/* Renders every file for spec. templates_dir (may be NULL) overrides the
 * built-in templates file by file. On failure *err names the template, the
 * line and the problem (caller frees). */
ku_rc ku_render_all(const struct ku_spec *spec, const char *templates_dir,
    struct ku_render_set *out, char **err);
/* Writes every file to outdir/<target>/<path> with its mode. */
ku_rc ku_render_write_tree(const struct ku_render_set *set,
    const char *outdir, char **err);
void ku_render_set_free(struct ku_render_set *set);
/* The file rendered for target ("cluster" or a machine's name) at path,
 * or NULL. */
const struct ku_rendered_file *ku_render_find(const struct ku_render_set *set,
    const char *target, const char *path);

/* The full reference of one of kubeup's images for spec ("pause" gives
 * "registry.k8s.io/pause:3.10.1"), as the templates use it; NULL for a
 * name kubeup does not know. Caller frees. */
char *ku_render_image(const struct ku_spec *spec, const char *name);

/* Where containerd finds the CA of the spec's registry on a machine
 * (/etc/containerd/certs.d/<host>/ca.crt), or NULL when images.ca_file is
 * not set (or the registry names no usable host). Caller frees. */
char *ku_render_registry_ca_path(const struct ku_spec *spec);

#endif
