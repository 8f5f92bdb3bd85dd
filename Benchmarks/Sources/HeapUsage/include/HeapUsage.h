#ifndef HEAP_USAGE_H
#define HEAP_USAGE_H

#include <stdint.h>

/// Bytes malloc has handed out and not had back (glibc's `mallinfo2().uordblks`); 0 elsewhere.
int64_t heap_usage_in_use_bytes(void);

#endif
