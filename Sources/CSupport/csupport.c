#include "csupport.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

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
