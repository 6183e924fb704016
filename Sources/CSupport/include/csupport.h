#ifndef LOSSCAPE_CSUPPORT_H
#define LOSSCAPE_CSUPPORT_H

#include <stddef.h>

/// Installs a SIGINT handler (no SA_RESTART) that sets the interrupt flag.
/// A second SIGINT while the flag is still set restores the default handler,
/// so a third ends the process, as Lua does.
void losscape_install_sigint_handler(void);
/// Restores the default SIGINT disposition.
void losscape_uninstall_sigint_handler(void);
/// 1 when Ctrl-C was pressed since the last clear.
int losscape_interrupted(void);
void losscape_clear_interrupt(void);
/// Sets the flag by hand (tests, or cancel from another thread).
void losscape_raise_interrupt(void);
/// 1 when the file descriptor is a terminal.
int losscape_isatty(int fd);
/// The lowest address and the size of the calling thread's stack (for recursion guards); 0 on success.
int losscape_thread_stack(void **low, size_t *size);
/// Opens a pseudo-terminal pair (tests drive the REPL through it): the master descriptor and the
/// slave's path; 0 on success.
int losscape_open_pty(int *master, char *slave_name, size_t name_size);

#endif
