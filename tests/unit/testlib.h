/* Helpers shared by the unit tests: header-only, every function static.
 *
 * Temporary folders (mkdtemp, removed recursively), specs with machines
 * filled by hand, and deadlines for every wait: a test never hangs.
 */
#ifndef KU_TESTLIB_H
#define KU_TESTLIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "spec.h"
#include "util.h"

/* Seconds any single wait in a test may take before the test fails. */
#define TL_DEADLINE_S 20

/* True when something accepts TCP connections on 127.0.0.1:port (the
 * tests' servers are polled with it until they are ready). */
static inline bool
tl_port_open(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A fresh folder under $TMPDIR (or /tmp); the caller frees the string and
 * removes the folder with tl_rmtree(). */
static inline char *
tl_mkdtemp(const char *what)
{
	const char *tmp = getenv("TMPDIR");
	char *templ;

	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	templ = xasprintf("%s/kubeup-%s-XXXXXX", tmp, what);
	if (mkdtemp(templ) == NULL)
		fail_msg("mkdtemp %s: %s", templ, strerror(errno));
	return templ;
}

static inline int
tl_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
tl_rmtree(const char *path)
{
	if (path != NULL)
		(void)nftw(path, tl_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A spec from ku_spec_new() with a master "master" and nodes "node-1" ...
 * "node-N", filled by hand. Their addresses are on loopback, so that no
 * test can ever reach beyond this host. */
static inline struct ku_spec *
tl_spec(size_t n_nodes)
{
	struct ku_spec *s = ku_spec_new();

	assert_non_null(s);
	s->master.name = xstrdup("master");
	s->master.address = xstrdup("127.0.0.10");
	s->node_count = (int)n_nodes;
	s->n_nodes = n_nodes;
	s->nodes = n_nodes ? xcalloc(n_nodes, sizeof *s->nodes) : NULL;
	for (size_t i = 0; i < n_nodes; i++) {
		s->nodes[i].name = xasprintf("node-%zu", i + 1);
		s->nodes[i].address = xasprintf("127.0.1.%zu", i + 1);
		s->nodes[i].port = 22;
	}
	return s;
}

/* An absolute CLOCK_MONOTONIC time ms from now. */
static inline struct timespec
tl_deadline_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* A condition variable whose timed waits use CLOCK_MONOTONIC. */
static inline void
tl_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

/* Waits on cv until *deadline; false when the deadline passed. */
static inline bool
tl_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu,
    const struct timespec *deadline)
{
	int r = pthread_cond_timedwait(cv, mu, deadline);
	return r != ETIMEDOUT;
}

static inline void
tl_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Runs fn(arg) in a child process and returns its wait status; fn's return
 * value is the child's exit status. For code that may crash or corrupt
 * memory: the test reports the failure and the other tests still run
 * (ASan and valgrind report in the child and make it exit non-zero). */
static inline int
tl_in_child(int (*fn)(void *arg), void *arg)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int rc;
		/* cmocka's handlers would carry on with the next test here. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		signal(SIGSYS, SIG_DFL);
		rc = fn(arg);
		fflush(stdout);
		fflush(stderr);
		exit(rc);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail_msg("waitpid: %s", strerror(errno));
	return status;
}

/* Fails the test unless the child exited with status 0. */
#define tl_assert_child_ok(status, what) do {                            \
	int st_ = (status);                                              \
	if (WIFSIGNALED(st_))                                            \
		fail_msg("%s: child killed by signal %d", (what),        \
		    WTERMSIG(st_));                                      \
	if (!WIFEXITED(st_) || WEXITSTATUS(st_) != 0)                    \
		fail_msg("%s: child exited with status %d", (what),      \
		    WEXITSTATUS(st_));                                   \
} while (0)

/* The last resort against a hang nobody foresaw: the whole binary is
 * killed after this many seconds (SIGALRM's default action), so the
 * harness reports a failure instead of waiting forever. */
static inline void
tl_watchdog(unsigned seconds)
{
	signal(SIGALRM, SIG_DFL);
	alarm(seconds);
}

/* KU_TEST_FILTER=test_cancel* runs only the matching tests (cmocka's
 * pattern: '*' and '?'), for working on one of them. */
static inline void
tl_filter_from_env(void)
{
	const char *pattern = getenv("KU_TEST_FILTER");

	if (pattern != NULL && pattern[0] != '\0')
		cmocka_set_test_filter(pattern);
}

#endif
