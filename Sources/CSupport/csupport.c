#define _GNU_SOURCE /* pthread_getattr_np */
#include "csupport.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>

static volatile sig_atomic_t interrupted = 0;
static int installed = 0;

static void on_sigint(int sig) {
    (void)sig;
    if (interrupted) {
        /* The program did not come back to poll the flag: let the next Ctrl-C kill it. */
        signal(SIGINT, SIG_DFL);
    }
    interrupted = 1;
}

void losscape_install_sigint_handler(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking read returns EINTR so the REPL sees the flag */
    sigaction(SIGINT, &sa, NULL);
    installed = 1;
}

void losscape_uninstall_sigint_handler(void) { signal(SIGINT, SIG_DFL); installed = 0; }
int losscape_interrupted(void) { return interrupted != 0; }
void losscape_clear_interrupt(void) {
    interrupted = 0;
    if (installed) losscape_install_sigint_handler(); /* a second Ctrl-C may have reset it */
}
void losscape_raise_interrupt(void) { interrupted = 1; }
int losscape_isatty(int fd) { return isatty(fd); }

int losscape_thread_stack(void **low, size_t *size) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return -1;
    int rc = pthread_attr_getstack(&attr, low, size);
    pthread_attr_destroy(&attr);
    return rc;
}

int losscape_open_pty(int *master, char *slave_name, size_t name_size) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0) return -1;
    if (grantpt(fd) != 0 || unlockpt(fd) != 0) { close(fd); return -1; }
    const char *name = ptsname(fd);
    if (name == NULL || strlen(name) + 1 > name_size) { close(fd); return -1; }
    strcpy(slave_name, name);
    *master = fd;
    return 0;
}
