#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

#include <stdint.h>

/// Allocations (malloc, calloc, realloc to a new block, the aligned variants) made by the whole
/// process since it started, on every thread. 0 forever when the replacement is not in effect.
int64_t allocation_counter_mallocs(void);

/// Whether this process's malloc is the counting replacement (checked by one allocation).
int allocation_counter_is_active(void);

#endif
