#ifndef VIGIL_SYSTEM_H
#define VIGIL_SYSTEM_H

/// prctl(2) is variadic, which Swift cannot call; these wrap the two calls Vigil makes.

/// prctl(PR_SET_DUMPABLE, value): 0 forbids core dumps and ptrace attach by other unprivileged processes.
/// Returns 0, or -1 with errno set.
int vigil_set_dumpable(int value);

/// prctl(PR_GET_DUMPABLE): 0, 1 or 2; -1 with errno set on failure.
int vigil_get_dumpable(void);

#endif
