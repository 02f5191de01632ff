/* pause: the pod sandbox's process (kubeup-sim, for the pause:3.2 image).
 * As the real pause: it holds the pod's namespaces by doing nothing, reaps
 * children (it is the PID 1 of the pod when the PID namespace is shared),
 * and exits 0 on SIGINT or SIGTERM. Built static (no libraries in the
 * image). "-v" prints its version. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "3.2"

static void
sigdown(int signo)
{
	psignal(signo, "Shutting down, got signal");
	_exit(0);
}

static void
sigreap(int signo)
{
	(void)signo;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int
main(int argc, char **argv)
{
	struct sigaction down = { .sa_handler = sigdown };
	struct sigaction reap = { .sa_handler = sigreap, .sa_flags = SA_NOCLDSTOP };

	if (argc == 2 && strcmp(argv[1], "-v") == 0) {
		printf("pause.c v%s (kubeup-sim)\n", VERSION);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s [-v]\n", argv[0]);
		return 2;
	}
	if (getpid() != 1)
		fprintf(stderr, "Warning: pause should be the first process\n");
	if (sigaction(SIGINT, &down, NULL) < 0 ||
	    sigaction(SIGTERM, &down, NULL) < 0 ||
	    sigaction(SIGCHLD, &reap, NULL) < 0) {
		perror("sigaction");
		return 1;
	}
	for (;;)
		pause();
}
