/* proc.h (host tool): starting child processes in their own group and always ending them. */
#ifndef WISP_CLI_PROC_H
#define WISP_CLI_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "env.h"

/* The signal (SIGINT, SIGTERM, SIGHUP) that asked us to stop; 0 if none. */
extern volatile sig_atomic_t stop_signal;

/* Catches SIGINT/SIGTERM/SIGHUP into stop_signal (no SA_RESTART) and ignores SIGPIPE. */
void install_stop_handlers(void);

struct spawn_request {
    char *const *argv;      /* argv[0] is looked up in PATH */
    int stdin_fd;           /* ignored with use_pty */
    int stdout_fd;
    int stderr_fd;
    bool use_pty;           /* stdin/stdout/stderr on a new pseudo-terminal */
    const char *term;       /* with use_pty: TERM for the child */
};

/*
 * Starts argv[0] as the leader of a new session and process group (so it and
 * all its children can be killed together) that also dies with us
 * (PR_SET_PDEATHSIG). Returns 0, or -errno if the program could not be
 * executed. With use_pty, *pty_master is the master side (non-blocking).
 */
int __must_check spawn_child(const struct spawn_request *req, pid_t *pid, int *pty_master);

/* True once the child has exited; it stays a zombie (not reaped) to hold its group id. */
bool child_has_exited(pid_t pid);

/*
 * Ends the child's whole process group: SIGTERM, up to grace_ms for the
 * leader to exit, then SIGKILL; reaps the leader. Returns its wait status.
 */
int end_process_group(pid_t pid, unsigned grace_ms);

/*
 * Runs argv to completion with stdout and stderr going to log_path.
 * Returns its exit status (0..255), or -errno if it could not be run, or
 * -EINTR if a stop signal arrived (the child is then killed).
 */
int __must_check run_tool(char *const *argv, const char *log_path);
/* Waits for a spawned tool: its exit status (128 + signal if killed), or -EINTR
 * after a stop signal (the tool's group is then ended). */
int wait_tool(pid_t pid);

/* Copies the last max_lines lines of a log file to stderr, indented. */
void show_log_tail(const char *path, unsigned max_lines);

/* CLOCK_MONOTONIC in milliseconds. */
long long monotonic_ms(void);

#endif
