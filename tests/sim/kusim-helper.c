/*
 * kusim-helper: the per-machine work of tests/sim/sim done with system
 * calls instead of one process per step. On these VMs a process costs
 * 10-20 ms of CPU; building a machine from shell commands took ~45 of
 * them, which made `sim up 100` take minutes. `sim up` compiles this file
 * into DIR/bin.
 *
 *   kusim-helper prepare DIR RUN NAME...
 *	Copies DIR/machines/.template to DIR/machines/NAME for each NAME and
 *	writes the machine's identity (hostname, machine-id, product_uuid)
 *	into its /etc layer, and empty files RUN/ns/NAME.{mnt,uts}.
 *
 *   kusim-helper start DIR ID PLEN RUN NETNS_PREFIX NAME=ADDRESS...
 *	For each machine: a child joins the network namespace
 *	/run/netns/NETNS_PREFIX NAME, unshares mount and UTS namespaces
 *	(which this process binds to RUN/ns/NAME.{mnt,uts} so that they
 *	outlive it), builds the machine's view of the file system, sets its
 *	hostname and address, and becomes the machine's sshd (-D -e, logging
 *	to DIR/machines/NAME/sim/sshd.log). Every ssh session is a child of
 *	that sshd, so it has the machine's mounts.
 *
 * Exit status 0 when every machine was made, 1 otherwise (the reason on
 * stderr, naming the machine and the step).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SSHD "/usr/sbin/sshd"

static int status_fd = 2;	/* where a child reports what failed */
static const char *machine = "";

static void
fail(const char *step, const char *what)
{
	dprintf(status_fd, "%s: %s%s%s: %s\n", machine, step, what ? " " : "",
	    what ? what : "", strerror(errno));
	_exit(1);
}

static void
path(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		fail("path", fmt);
	}
}

static void
write_file(const char *p, const char *text, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		fail("create", p);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail("write", p);
	if (fchmod(fd, mode) < 0 || close(fd) < 0)
		fail("write", p);
}

/* --- prepare -------------------------------------------------------- */

static void
copy_file(const char *from, const char *to, const struct stat *st)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		fail("open", from);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		fail("create", to);
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			fail("write", to);
	if (n < 0)
		fail("read", from);
	if (fchown(out, st->st_uid, st->st_gid) < 0 ||
	    fchmod(out, st->st_mode & 07777) < 0)
		fail("chmod", to);
	close(in);
	close(out);
}

/* copy_tree: a folder with its modes and owners (what `cp -a` does for
 * folders, regular files and symbolic links) */
static void
copy_tree(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX], link[PATH_MAX];
	struct dirent *e;
	struct stat st;
	ssize_t n;
	DIR *d;

	if (lstat(from, &st) < 0)
		fail("stat", from);
	if (mkdir(to, 0700) < 0)
		fail("mkdir", to);
	d = opendir(from);
	if (!d)
		fail("opendir", from);
	while ((e = readdir(d))) {
		struct stat est;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path(a, "%s/%s", from, e->d_name);
		path(b, "%s/%s", to, e->d_name);
		if (lstat(a, &est) < 0)
			fail("stat", a);
		if (S_ISDIR(est.st_mode)) {
			copy_tree(a, b);
		} else if (S_ISREG(est.st_mode)) {
			copy_file(a, b, &est);
		} else if (S_ISLNK(est.st_mode)) {
			n = readlink(a, link, sizeof link - 1);
			if (n < 0)
				fail("readlink", a);
			link[n] = 0;
			if (symlink(link, b) < 0 ||
			    lchown(b, est.st_uid, est.st_gid) < 0)
				fail("symlink", b);
		} else {
			errno = EINVAL;
			fail("copy (not a file, folder or link)", a);
		}
	}
	closedir(d);
	if (chown(to, st.st_uid, st.st_gid) < 0 ||
	    chmod(to, st.st_mode & 07777) < 0)
		fail("chmod", to);
}

static void
random_uuid(char *out, size_t size)
{
	int fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || (n = read(fd, out, size - 1)) < 36)
		fail("read", "/proc/sys/kernel/random/uuid");
	out[36] = 0;
	close(fd);
}

static int
prepare(int argc, char **argv)
{
	const char *dir = argv[0], *run = argv[1];
	char m[PATH_MAX], p[PATH_MAX], tmpl[PATH_MAX], uuid[64], id[40];
	int i, j, k;

	path(tmpl, "%s/machines/.template", dir);
	for (i = 2; i < argc; i++) {
		machine = argv[i];
		path(m, "%s/machines/%s", dir, machine);
		copy_tree(tmpl, m);

		random_uuid(uuid, sizeof uuid);
		strcat(uuid, "\n");
		path(p, "%s/overlay/etc/upper/kubeup-sim/product_uuid", m);
		write_file(p, uuid, 0444);
		random_uuid(uuid, sizeof uuid);
		for (j = k = 0; uuid[j] && k < 32; j++)
			if (uuid[j] != '-')
				id[k++] = uuid[j];
		id[k++] = '\n';
		id[k] = 0;
		path(p, "%s/overlay/etc/upper/machine-id", m);
		write_file(p, id, 0444);
		path(p, "%s/overlay/etc/upper/hostname", m);
		{
			char line[128];

			snprintf(line, sizeof line, "%s\n", machine);
			write_file(p, line, 0644);
		}

		static const char *const links[][2] = {
			{ "overlay/etc/upper/kubeup-sim/product_uuid", "product_uuid" },
			{ "overlay/etc/upper/machine-id", "machine-id" },
			{ "overlay/etc/upper/ssh/ssh_host_ed25519_key.pub",
			  "ssh_host_ed25519_key.pub" },
			{ "sim/sshd.log", "sshd.log" },
		};
		for (j = 0; j < (int)(sizeof links / sizeof links[0]); j++) {
			path(p, "%s/%s", m, links[j][1]);
			if (symlink(links[j][0], p) < 0)
				fail("symlink", p);
		}
		path(p, "%s/ns/%s.mnt", run, machine);
		write_file(p, "", 0644);
		path(p, "%s/ns/%s.uts", run, machine);
		write_file(p, "", 0644);
		path(p, "%s/ns/%s.cgroup", run, machine);
		write_file(p, "", 0644);
	}
	return 0;
}

/* --- start ---------------------------------------------------------- */

static char *
unescape(char *s)	/* mountinfo's \040-style escapes, in place */
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
	return s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}


/* --- cgroups ---------------------------------------------------------- */

/* Each machine has a cgroup of its own in every hierarchy the host mounts
 * under /sys/fs/cgroup (kusim<ID>/<NAME>), and a cgroup namespace rooted
 * there, in which it mounts those hierarchies afresh. Its kubelet and
 * containerd then see "/" as the machine's own cgroup: kubepods of several
 * machines on one host never collide, and `sim down` finds every process
 * of a machine in its cgroup. */
#define MAX_HIER 16
struct hier {
	char dir[64];     /* under /sys/fs/cgroup: "memory", "unified" */
	char type[16];    /* "cgroup" or "cgroup2" */
	char opts[128];   /* the controllers: "memory", "none,name=systemd" */
};
static struct hier hiers[MAX_HIER];
static int n_hiers = -1;

static void
find_hierarchies(void)
{
	char line[8192], *fields[12], *sep, *fstype, *opts, *save, *o, *os;
	FILE *f;

	if (n_hiers >= 0)
		return;
	n_hiers = 0;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		fail("open", "/proc/self/mountinfo");
	while (fgets(line, sizeof line, f) && n_hiers < MAX_HIER) {
		struct hier *h = &hiers[n_hiers];
		int nf = 0;
		char *mp, *base;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = 0;
		fstype = strtok_r(sep + 3, " ", &save);
		(void)strtok_r(NULL, " ", &save);   /* source */
		opts = strtok_r(NULL, " \n", &save);
		for (char *t = strtok_r(line, " ", &save); t && nf < 12;
		    t = strtok_r(NULL, " ", &save))
			fields[nf++] = t;
		if (nf < 5 || !fstype || !opts)
			continue;
		if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
			continue;
		mp = unescape(fields[4]);
		if (strncmp(mp, "/sys/fs/cgroup", 14) ||
		    (mp[14] != '/' && mp[14] != 0))
			continue;
		base = mp[14] ? mp + 15 : mp + 14;
		if (strchr(base, '/') || strlen(base) >= sizeof h->dir)
			continue;
		snprintf(h->dir, sizeof h->dir, "%s", base);
		snprintf(h->type, sizeof h->type, "%s", fstype);
		h->opts[0] = 0;
		for (o = strtok_r(opts, ",", &os); o; o = strtok_r(NULL, ",", &os)) {
			if (!strcmp(o, "rw") || !strcmp(o, "ro"))
				continue;
			if (strlen(h->opts) + strlen(o) + 2 >= sizeof h->opts)
				break;
			if (h->opts[0])
				strcat(h->opts, ",");
			strcat(h->opts, o);
		}
		if (!strcmp(fstype, "cgroup") && !h->opts[0])
			continue;
		n_hiers++;
	}
	fclose(f);
}

static void
copy_value(const char *from_dir, const char *to_dir, const char *file)
{
	char a[PATH_MAX], b[PATH_MAX], buf[4096];
	ssize_t n;
	int fd;

	path(a, "%s/%s", from_dir, file);
	fd = open(a, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open", a);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		fail("read", a);
	path(b, "%s/%s", to_dir, file);
	fd = open(b, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		fail("write", b);
	close(fd);
}

/* Makes /sys/fs/cgroup/<h>/kusim<ID>/<NAME> in every hierarchy and moves
 * this process there. */
static void
enter_machine_cgroups(const char *id)
{
	char rig[PATH_MAX], own[PATH_MAX], root[PATH_MAX], pid[32];
	int i, fd, len;

	find_hierarchies();
	for (i = 0; i < n_hiers; i++) {
		const struct hier *h = &hiers[i];
		int cpuset = strstr(h->opts, "cpuset") != NULL;

		path(root, "/sys/fs/cgroup/%s", h->dir);
		path(rig, "%s/kusim%s", root, id);
		path(own, "%s/%s", rig, machine);
		if (mkdir(rig, 0755) < 0 && errno != EEXIST)
			fail("mkdir", rig);
		if (cpuset) {   /* a new cpuset has no CPUs until given some */
			copy_value(root, rig, "cpuset.cpus");
			copy_value(root, rig, "cpuset.mems");
		}
		if (mkdir(own, 0755) < 0 && errno != EEXIST)
			fail("mkdir", own);
		if (cpuset) {
			copy_value(rig, own, "cpuset.cpus");
			copy_value(rig, own, "cpuset.mems");
		}
		path(rig, "%s/cgroup.procs", own);
		fd = open(rig, O_WRONLY | O_CLOEXEC);
		len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
		if (fd < 0 || write(fd, pid, (size_t)len) != len)
			fail("join", rig);
		close(fd);
	}
}

/* In the machine's mount and cgroup namespaces: a tmpfs on /sys/fs/cgroup
 * with every hierarchy mounted again, rooted at the machine's cgroup. */
static void
mount_machine_cgroups(void)
{
	char p[PATH_MAX];
	int i;

	if (mount("cgroup", "/sys/fs/cgroup", "tmpfs",
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		fail("mount tmpfs on", "/sys/fs/cgroup");
	for (i = 0; i < n_hiers; i++) {
		const struct hier *h = &hiers[i];

		path(p, "/sys/fs/cgroup/%s", h->dir);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			fail("mkdir", p);
		if (mount("cgroup", p, h->type, MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    strcmp(h->type, "cgroup2") ? h->opts : NULL) < 0)
			fail("mount cgroup", p);
	}
	/* the combined names some programs look for */
	if (!access("/sys/fs/cgroup/cpu", F_OK) &&
	    !access("/sys/fs/cgroup/cpuacct", F_OK)) {
		if (symlink("cpu", "/sys/fs/cgroup/cpu,cpuacct") < 0 && errno != EEXIST)
			fail("symlink", "/sys/fs/cgroup/cpu,cpuacct");
	}
}

/* Let go of what the new mount namespace copied and must not hold: the
 * namespace handles of other machines and rigs (nsfs), and the host's
 * /run. Only the topmost of nested mounts is detached (with its subtree). */
static int
detach_foreign(void)
{
	char line[8192], *fields[12], *mp, *fstype, *sep, *save;
	char **list = NULL;
	size_t n = 0, cap = 0, i, j;
	int cgroup = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		fail("open", "/proc/self/mountinfo");
	while (fgets(line, sizeof line, f)) {
		int nf = 0;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		fstype = strtok_r(sep + 3, " ", &save);
		for (char *t = strtok_r(line, " ", &save); t && nf < 12;
		    t = strtok_r(NULL, " ", &save))
			fields[nf++] = t;
		if (nf < 5 || !fstype)
			continue;
		mp = unescape(fields[4]);
		if (!strcmp(mp, "/sys/fs/cgroup"))
			cgroup = 1;
		if (strcmp(fstype, "nsfs") && strcmp(mp, "/run") &&
		    strncmp(mp, "/run/", 5))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			list = realloc(list, cap * sizeof *list);
			if (!list)
				fail("detach", "(out of memory)");
		}
		list[n++] = strdup(mp);
	}
	fclose(f);
	qsort(list, n, sizeof *list, cmp_str);
	for (i = 0; i < n; i++) {
		int nested = 0;

		for (j = 0; j < i && !nested; j++) {
			size_t l = strlen(list[j]);

			nested = !strncmp(list[i], list[j], l) &&
			    (list[i][l] == '/' || list[i][l] == 0);
		}
		if (!nested && umount2(list[i], MNT_DETACH) < 0 &&
		    errno != EINVAL && errno != ENOENT)
			fail("detach", list[i]);
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return cgroup;
}

static void
bind_mount(const char *from, const char *to)
{
	if (mount(from, to, NULL, MS_BIND, NULL) < 0)
		fail("bind-mount onto", to);
}

static void
set_address(const char *addr, int plen)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int s;

	/* no IPv6 on the rig's links: nothing but IPv4 on the bridge */
	int fd = open("/proc/sys/net/ipv6/conf/eth0/disable_ipv6", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1\n", 2) != 2)
			fail("disable IPv6 on", "eth0");
		close(fd);
	}

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail("socket", NULL);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fail("flags of", "lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fail("up", "lo");

	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "eth0");
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		errno = EINVAL;
		fail("address", addr);
	}
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		fail("address of eth0", addr);
	sin->sin_addr.s_addr = htonl(plen ? ~0u << (32 - plen) : 0);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		fail("netmask of", "eth0");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		fail("flags of", "eth0");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		fail("up", "eth0");
	/* A default route through the host's bridge address (the network's
	 * first), as a real machine has one: without any route the kernel
	 * refuses to send to a Service's cluster IP before kube-proxy's
	 * rules can rewrite it. The host forwards nothing that arrives on
	 * the bridge (its forwarding is off there), so nothing leaves the
	 * rig. */
	{
		struct rtentry rt;
		struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;
		struct in_addr a;

		memset(&rt, 0, sizeof rt);
		((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
		((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
		gw->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &a) != 1)
			fail("address", addr);
		gw->sin_addr.s_addr = htonl((ntohl(a.s_addr) &
		    (plen ? ~0u << (32 - plen) : 0)) | 1u);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = (char *)"eth0";
		if (ioctl(s, SIOCADDRT, &rt) < 0)
			fail("default route of", "eth0");
	}
	close(s);
}

/* The machine's file system: see README.md, "Inside a machine". */
static void
build_machine(const char *dir, const char *id, const char *m)
{
	static const char *const private[] = {
		"opt", "usr/local/bin", "etc/kubernetes", "etc/systemd/system",
		"etc/containerd", "etc/cni", "var/lib/kubelet", "var/lib/etcd",
		/* not in the /var overlay: containerd's overlayfs snapshots
		 * cannot live on an overlay file system */
		"var/lib/containerd",
	};
	static const char *const layers[] = { "etc", "usr", "var" };
	static const char *const homes[] = { "root", "home", "tmp" };
	char a[PATH_MAX], b[PATH_MAX], opts[3 * PATH_MAX + 64];
	const char *last = NULL;
	size_t i;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail("make private", "/");
	/* /sys as this network namespace sees it, with the machine's own
	 * cgroups (see mount_machine_cgroups) */
	(void)detach_foreign();
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fail("mount", "/sys");
	mount_machine_cgroups();
	/* /etc, /usr, /var: the host's, under the rig's shared layer, under
	 * the machine's own writable layer */
	for (i = 0; i < sizeof layers / sizeof layers[0]; i++) {
		char src[128];

		snprintf(opts, sizeof opts,
		    "lowerdir=%s/layer/%s:/%s,upperdir=%s/overlay/%s/upper,workdir=%s/overlay/%s/work",
		    dir, layers[i], layers[i], m, layers[i], m, layers[i]);
		snprintf(src, sizeof src, "kusim%s-%s", id, machine);
		path(a, "/%s", layers[i]);
		if (mount(src, a, "overlay", 0, opts) < 0)
			fail("overlay mount on", a);
	}
	for (i = 0; i < sizeof private / sizeof private[0]; i++) {
		path(a, "%s/%s", m, private[i]);
		path(b, "/%s", private[i]);
		bind_mount(a, b);
	}
	path(a, "%s/sim", m);
	bind_mount(a, "/var/lib/kubeup-sim");
	path(a, "%s/sim/swaps", m);
	bind_mount(a, "/proc/swaps");
	path(a, "%s/run", m);
	bind_mount(a, "/run");
	/* /root, /home and /tmp last; the one holding DIR at the very end,
	 * as paths under it are hidden once it is covered */
	for (i = 0; i < sizeof homes / sizeof homes[0]; i++) {
		size_t l = strlen(homes[i]);

		if (!strncmp(dir + 1, homes[i], l) && dir[l + 1] == '/') {
			last = homes[i];
			continue;
		}
		path(a, "%s/%s", m, homes[i]);
		path(b, "/%s", homes[i]);
		bind_mount(a, b);
	}
	if (last) {
		path(a, "%s/%s", m, last);
		path(b, "/%s", last);
		bind_mount(a, b);
	}
}

/* start_one: returns the pid of the machine's sshd, or -1 */
static pid_t
start_one(const char *dir, const char *id, int plen, const char *run,
    const char *nsprefix, char *spec)
{
	char m[PATH_MAX], p[PATH_MAX], q[PATH_MAX], msg[4096];
	char *addr = strchr(spec, '=');
	int fds[2], net, log, null;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (!addr) {
		fprintf(stderr, "kusim-helper: NAME=ADDRESS expected: %s\n", spec);
		return -1;
	}
	*addr++ = 0;
	machine = spec;
	path(m, "%s/machines/%s", dir, machine);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("kusim-helper: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("kusim-helper: fork");
		return -1;
	}
	if (pid == 0) {
		status_fd = fds[1];
		close(fds[0]);
		path(p, "%s/sim/sshd.log", m);
		log = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (log < 0)
			fail("open", p);
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0)
			fail("open", "/dev/null");
		path(p, "/run/netns/%s%s", nsprefix, machine);
		net = open(p, O_RDONLY | O_CLOEXEC);
		if (net < 0)
			fail("open", p);
		if (setns(net, CLONE_NEWNET) < 0)
			fail("join", p);
		close(net);
		enter_machine_cgroups(id);
		if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWCGROUP) < 0)
			fail("unshare", "mount, UTS and cgroup namespaces");
		if (write(fds[1], "u", 1) != 1)
			_exit(1);
		if (sethostname(machine, strlen(machine)) < 0)
			fail("sethostname", machine);
		set_address(addr, plen);
		build_machine(dir, id, m);
		if (chdir("/") < 0)
			fail("chdir", "/");
		if (setsid() < 0)
			fail("setsid", NULL);
		if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			fail("dup2", NULL);
		close_range(3, ~0U, 0);
		status_fd = 2;
		{
			char *const av[] = { SSHD, "-D", "-e", NULL };
			char *const env[] = {
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"LANG=C.UTF-8", NULL,
			};

			execve(SSHD, av, env);
		}
		fail("exec", SSHD);
	}
	close(fds[1]);
	/* the child's namespaces are bound to files before anything else:
	 * they outlive it, and `sim down` finds them there */
	n = read(fds[0], msg, 1);
	if (n == 1 && msg[0] == 'u') {
		path(p, "/proc/%d/ns/mnt", (int)pid);
		path(q, "%s/ns/%s.mnt", run, machine);
		if (mount(p, q, NULL, MS_BIND, NULL) < 0)
			fprintf(stderr, "%s: bind %s: %s\n", machine, q, strerror(errno));
		path(p, "/proc/%d/ns/uts", (int)pid);
		path(q, "%s/ns/%s.uts", run, machine);
		if (mount(p, q, NULL, MS_BIND, NULL) < 0)
			fprintf(stderr, "%s: bind %s: %s\n", machine, q, strerror(errno));
		path(p, "/proc/%d/ns/cgroup", (int)pid);
		path(q, "%s/ns/%s.cgroup", run, machine);
		if (mount(p, q, NULL, MS_BIND, NULL) < 0)
			fprintf(stderr, "%s: bind %s: %s\n", machine, q, strerror(errno));
	} else if (n > 0) {
		got = (size_t)n;
	}
	while (got < sizeof msg - 1 && (n = read(fds[0], msg + got, sizeof msg - 1 - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	if (got) {
		msg[got] = 0;
		fputs(msg, stderr);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static int
start(int argc, char **argv)
{
	const char *dir = argv[0], *id = argv[1], *run = argv[3], *nsp = argv[4];
	int plen = atoi(argv[2]), i, st = 0;
	char p[PATH_MAX], line[64];
	FILE *made;

	path(p, "%s/made.log", dir);
	made = fopen(p, "ae");
	if (!made) {
		perror(p);
		return 1;
	}
	setvbuf(made, NULL, _IOLBF, 0);
	for (i = 5; i < argc; i++) {
		pid_t pid = start_one(dir, id, plen, run, nsp, argv[i]);

		if (pid < 0) {
			st = 1;
			break;
		}
		fprintf(made, "process %d %s sshd\n", (int)pid, machine);
		path(p, "%s/machines/%s/sshd.pid", dir, machine);
		snprintf(line, sizeof line, "%d\n", (int)pid);
		write_file(p, line, 0644);
	}
	fclose(made);
	return st;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "prepare"))
		return prepare(argc - 2, argv + 2);
	if (argc >= 7 && !strcmp(argv[1], "start"))
		return start(argc - 2, argv + 2);
	fprintf(stderr, "usage: kusim-helper prepare DIR RUN NAME...\n"
	    "       kusim-helper start DIR ID PLEN RUN NETNS_PREFIX NAME=ADDRESS...\n");
	return 2;
}
